"""Random bytes and random CSV shapes through the import service.

Whatever the input, the service either refuses the file with a clear
`ValidationError` at upload, or runs to a final status with counters that add
up: never an unhandled exception, never a half-written audience.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.audiences import selectors, services
from campaigns.models import Audience, ImportStatus, Recipient
from tests.import_helpers import make_csv, upload

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
CELLS = st.one_of(
    st.sampled_from(
        [
            "a@x.fr",
            "A@X.FR",
            "06 12 34 56 78",
            "+33612345678",
            "0033612345678",
            "",
            "n/a",
        ]
    ),
    st.text(max_size=30),
    st.text(alphabet=';,\t"\r\n=+-@\x00é', max_size=12),
)
HEADERS = st.lists(
    st.sampled_from(["email", "Courriel", "tel", "Portable", "Prénom", "nom", "x", ""]),
    min_size=1,
    max_size=6,
)


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.RECIPIENT_IMPORT_DIR = tmp_path / "imports"


def import_or_refuse(content: bytes) -> None:
    audience = Audience.objects.create(name=f"Fuzz {Audience.objects.count()}")
    try:
        draft = upload(audience, content)
    except ValidationError as exc:
        assert exc.messages and exc.code
        assert not Recipient.objects.filter(audience=audience).exists()
        return
    mapping = {int(i): f for i, f in draft.mapping.items()}
    try:
        services.recipient_import_start(
            recipient_import=draft, mapping=mapping, mode="update", enqueue=False
        )
    except ValidationError as exc:
        assert exc.messages
        return
    done = services.recipient_import_run(import_id=draft.pk, workers=1)
    assert done.status == ImportStatus.DONE, done.error_message
    stored = Recipient.objects.filter(audience=audience).count()
    assert done.created == stored
    outcomes = done.created + done.updated + done.duplicates + done.invalid
    assert done.rows_read == outcomes
    reported = list(selectors.import_errors(recipient_import=done))
    assert len([p for p in reported if not p.warning]) == done.invalid
    assert len([p for p in reported if p.warning]) == done.warnings


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_import(content: bytes) -> None:
    import_or_refuse(content)


@FUZZ
@given(
    header=HEADERS,
    rows=st.lists(st.lists(CELLS, max_size=7), max_size=15),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_random_csv_shapes_always_end_in_a_report(
    header, rows, delimiter, encoding
) -> None:
    text_rows = [header, *rows]
    try:
        content = make_csv(text_rows, delimiter=delimiter, encoding=encoding)
    except UnicodeEncodeError:
        content = make_csv(text_rows, delimiter=delimiter, encoding="utf-8")
    import_or_refuse(content)
