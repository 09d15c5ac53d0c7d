"""The audience and import pages through the test client: flow, bad input, access."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from campaigns.audiences import services
from campaigns.models import Audience, ImportStatus, Recipient, RecipientImport
from partnerhub import search
from tests.import_helpers import make_csv
from unsubscribes.models import Unsubscribe

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.RECIPIENT_IMPORT_DIR = tmp_path / "imports"
    return settings.RECIPIENT_IMPORT_DIR


@pytest.fixture
def audience() -> Audience:
    return Audience.objects.create(name="Clients", description="Newsletter")


@pytest.fixture
def marketing(role_client):
    return role_client("Marketing")


def post_file(client, audience, content: bytes, name="list.csv", **data):
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(
        reverse("audiences:import", args=[audience.pk]),
        {"file": upload, **data},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_whole_flow_upload_preview_run_result_and_error_csv(
    marketing, audience, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    ran: list[int] = []
    monkeypatch.setattr(services, "enqueue_import", ran.append)
    content = make_csv(
        [
            ["Mél", "Portable", "Nom"],
            ["a@x.fr", "06 12 34 56 78", "Roux"],
            ["x", "", ""],
        ],
        encoding="cp1252",
    )
    response = post_file(marketing, audience, content)
    imp = RecipientImport.objects.get()
    assert response.url == reverse("audiences:import_preview", args=[imp.pk])

    preview = marketing.get(response.url)
    assert preview.status_code == 200
    assert "Windows-1252 (Excel)" in preview.text and "cp1252" not in preview.text
    assert "Roux" in preview.text
    # line 3 ("x", no phone) is shown as the import will treat it
    assert preview.text.count('class="ph-row-rejected"') == 1
    assert "1 of these rows will be rejected" in preview.text

    with django_capture_on_commit_callbacks(execute=True):
        started = marketing.post(
            response.url,
            {"col_0": "email", "col_1": "phone", "col_2": "first_name", "mode": "skip"},
        )
    assert started.url == reverse("audiences:import_progress", args=[imp.pk])
    assert ran == [imp.pk]
    services.recipient_import_run(import_id=imp.pk, workers=1)

    status = marketing.get(reverse("audiences:import_status", args=[imp.pk])).json()
    assert status["finished"] and status["percent"] == 100
    assert Recipient.objects.get().first_name == "Roux"
    result = marketing.get(reverse("audiences:import_result", args=[imp.pk]))
    assert result.status_code == 200 and "error-download" in result.text

    report = marketing.get(reverse("audiences:import_errors", args=[imp.pk]))
    rows = list(
        csv.reader(
            io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert rows[0] == ["Line", "Outcome", "Reason", "Code", "Content"]
    assert rows[1][:4] == [
        "3",
        "Rejected",
        "The email address is not valid.",
        "invalid_email",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"email;phone\r\n", "no data rows"),
        (b"\x00\x01\x02binary\x00" * 200, "binary"),
        (b"PK\x03\x04" + b"\x00" * 100, "Excel"),
        (b"email;phone\r\na\x00b@x.fr;0612345678\r\n", None),
        (b"email;name\r\na@x.fr;" + b"x" * 10_000 + b"\r\n", None),
        ("email;nom\r\na@x.fr;Zoé\r\n".encode("utf-16-le"), "binary"),
    ],
)
def test_bad_files_get_a_clear_message_never_a_500(
    marketing, audience, content, message
) -> None:
    response = post_file(marketing, audience, content)
    if message is None:  # accepted: the row problems are reported after the run
        assert response.status_code == 302
        return
    assert response.status_code == 200
    assert message in response.text
    assert not RecipientImport.objects.exists()


def test_nul_and_long_cells_are_reported_per_row(marketing, audience) -> None:
    content = (
        b"email;name\r\na\x00b@x.fr;Ann\r\nc@x.fr;"
        + b"x" * 10_000
        + b"\r\nok@x.fr;Ok\r\n"
    )
    post_file(marketing, audience, content)
    imp = RecipientImport.objects.get()
    services.recipient_import_start(
        recipient_import=imp,
        mapping={0: "email", 1: "first_name"},
        mode="update",
        enqueue=False,
    )
    done = services.recipient_import_run(import_id=imp.pk, workers=1)
    assert (done.created, done.invalid) == (1, 2)


def test_wrong_encoding_override_is_a_clear_message(marketing, audience) -> None:
    content = "email;nom\r\na@x.fr;Zoé\r\n".encode("cp1252")
    response = post_file(marketing, audience, content, encoding="utf-8")
    assert response.status_code == 200
    assert "cannot be read with the chosen encoding" in response.text


def test_too_large_upload_is_stopped_with_a_message(
    marketing, audience, settings
) -> None:
    settings.RECIPIENT_IMPORT_MAX_BYTES = 1024
    content = make_csv([["email"], *[[f"p{i}@x.fr"] for i in range(500)]])
    response = post_file(marketing, audience, content)
    assert response.status_code == 200
    assert "too large" in response.text
    assert not RecipientImport.objects.exists()


def test_bad_mapping_is_refused_in_place(marketing, audience) -> None:
    post_file(
        marketing, audience, make_csv([["email", "tel"], ["a@x.fr", "0612345678"]])
    )
    imp = RecipientImport.objects.get()
    url = reverse("audiences:import_preview", args=[imp.pk])
    response = marketing.post(
        url, {"col_0": "email", "col_1": "email", "mode": "update"}
    )
    assert response.status_code == 200
    assert "each field may be chosen for one column only" in response.text
    response = marketing.post(url, {"col_0": "ignore", "col_1": "", "mode": "update"})
    assert "No column is mapped" in response.text
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DRAFT


def test_cancel_button_requests_a_cancel(marketing, audience) -> None:
    post_file(marketing, audience, make_csv([["email"], ["a@x.fr"]]))
    imp = RecipientImport.objects.get()
    imp.status = ImportStatus.RUNNING
    imp.save()
    response = marketing.post(
        reverse("audiences:import_cancel", args=[imp.pk]), follow=True
    )
    imp.refresh_from_db()
    assert imp.cancel_requested
    assert "Cancel requested" in response.text


def test_detail_lists_recipients_flags_unsubscribed_and_searches(
    marketing, audience, django_assert_max_num_queries
) -> None:
    Recipient.objects.create(audience=audience, email="stop@x.fr", first_name="Stop")
    Recipient.objects.create(audience=audience, phone="+33612345678", first_name="Tel")
    Recipient.objects.create(audience=audience, email="ok@x.fr", first_name="Okay")
    Unsubscribe.objects.create(channel="email", address="stop@x.fr")
    url = reverse("audiences:detail", args=[audience.pk])
    with django_assert_max_num_queries(15):
        response = marketing.get(url)
    assert response.context["unsubscribed"] == 1
    assert response.text.count("ph-badge-danger") == 1
    found = marketing.get(url, {"q": "OK@"})
    assert [r.email for r in found.context["page_obj"]] == ["ok@x.fr"]
    found = marketing.get(url, {"q": "06 12"})
    assert [r.phone for r in found.context["page_obj"]] == ["+33612345678"]
    if search.anywhere():  # names have a trigram index on PostgreSQL only
        found = marketing.get(url, {"q": "okay"})
        assert [r.email for r in found.context["page_obj"]] == ["ok@x.fr"]


def test_list_shows_counts(marketing, audience) -> None:
    Recipient.objects.create(audience=audience, email="a@x.fr")
    response = marketing.get(reverse("audiences:list"))
    assert response.context["audiences"][0].recipient_count == 1


def test_export_streams_a_bom_csv_with_the_chosen_delimiter(
    marketing, audience
) -> None:
    Recipient.objects.create(
        audience=audience,
        email="a@x.fr",
        phone="+33612345678",
        attributes={"Ville": "Nîmes"},
    )
    url = reverse("audiences:export", args=[audience.pk])
    body = b"".join(marketing.get(url, {"delimiter": "comma"}).streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.decode("utf-8-sig").splitlines() == [
        "email,phone,first_name,last_name,Ville",
        "a@x.fr,'+33612345678,,,Nîmes",
    ]


@pytest.mark.parametrize("name", ["list", "detail", "import", "export"])
def test_pec_operators_are_refused(role_client, audience, name) -> None:
    client = role_client("PEC operators")
    args = [] if name == "list" else [audience.pk]
    assert client.get(reverse(f"audiences:{name}", args=args)).status_code == 403
