"""Shared fixtures and builders for the PEC tests (mailboxes on the live sandbox)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pec import services
from pec.models import PecMailbox, PecSend
from tests.factories import UserFactory

DEMO_ADDRESS = "demo@pecmassiva.com"
DEMO_PASSWORD = "demo-password"
OTHER_ADDRESS = "ufficio@pecmassiva.com"
OTHER_PASSWORD = "ufficio-password"


@pytest.fixture
def pec_live(sandbox_settings: Any, settings: Any, monkeypatch: Any) -> Any:
    """Settings on the live sandbox, tasks inline, no pacing delay between tests."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    settings.PEC_MIN_INTERVAL_SECONDS = 0.0
    settings.PEC_READ_RETRY_SECONDS = 0.0
    settings.PROVIDER_TIMEOUT = (2.0, 5.0)
    return sandbox_settings


def mailbox(
    *, address: str = DEMO_ADDRESS, password: str = DEMO_PASSWORD, operators=()
) -> PecMailbox:
    box = PecMailbox.objects.create(
        label=address.split("@")[0].title(), username=address, password=password
    )
    box.operators.add(*operators)
    return box


def draft(
    box: PecMailbox,
    *,
    recipients: list[str] | None = None,
    subject: str = "Diffida",
    files: list[SimpleUploadedFile] | None = None,
    user: Any = None,
) -> PecSend:
    return services.send_draft(
        mailbox=box,
        user=user or UserFactory(),
        recipients=recipients or ["ufficio@pec.example.it"],
        subject=subject,
        body_html="<p>Testo <b>certificato</b></p>",
        files=files or [],
    )


def confirm_and_send(send: PecSend, capture: Any) -> PecSend:
    """Confirm, run the on-commit enqueue (django-q sync: the task runs inline)."""
    with capture(execute=True):
        services.send_confirm(send=send)
    send.refresh_from_db()
    return send
