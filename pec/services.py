"""PEC actions: one function per action, keyword-only, transactional, typed errors.

Never sent twice: a send is a row before it is an HTTP request. `send_dispatch`
claims the row (queued → submitting) in its own transaction, calls the provider,
then records the outcome. A row found in `submitting` belonged to a worker that
died mid-call: it becomes `unknown`, never a second request. Re-sending is always
an operator's explicit decision (`send_resend`), recorded as a new send.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.html import sanitise_preview
from partnerhub.providers import errors
from partnerhub.providers.pecmassiva import InboxMessage, InboxPage, PecAttachment

from . import receipts as receipt_store
from .errors import PecActionRefused, error_code, error_detail, error_message
from .gateway import PecGateway
from .models import DispatchStatus, PecAttachmentFile, PecMailbox, PecSend
from .notify import notify_alarming

logger = logging.getLogger(__name__)
QUOTA_MAX_AGE = timedelta(hours=1)


# --- compose, confirm, send ----------------------------------------------------------
@transaction.atomic
def send_draft(
    *,
    mailbox: PecMailbox,
    user: Any,
    recipients: Sequence[str],
    subject: str,
    body_html: str,
    files: Sequence[UploadedFile] = (),
) -> PecSend:
    """Record a send awaiting confirmation (nothing leaves yet)."""
    send = PecSend.objects.create(
        mailbox=mailbox,
        recipients=list(recipients),
        subject=subject,
        # what the preview showed is what leaves: the email compose's sanitiser
        body_html=sanitise_preview(body_html),
        created_by=user,
    )
    for upload in files:
        content = upload.read()
        PecAttachmentFile.objects.create(
            send=send,
            name=upload.name or "attachment",
            content_type=upload.content_type or "",
            size=len(content),
            content=content,
        )
    return send


@transaction.atomic
def send_confirm(*, send: PecSend) -> PecSend:
    """The operator confirmed: queue the send task (once)."""
    locked = PecSend.objects.select_for_update().get(pk=send.pk)
    if locked.status != DispatchStatus.DRAFT:
        raise PecActionRefused(_("This PEC was already confirmed."))
    locked.status = DispatchStatus.QUEUED
    locked.confirmed_at = timezone.now()
    locked.save(update_fields=["status", "confirmed_at"])
    transaction.on_commit(lambda: enqueue_send(locked.pk))
    return locked


def enqueue_send(send_id: int) -> None:
    from django_q.tasks import async_task

    async_task("pec.tasks.send_pec", send_id, task_name=f"pec-send-{send_id}")


def _claim(send_id: int) -> PecSend | None:
    """queued → submitting, in its own transaction; None when not ours to send."""
    with transaction.atomic():
        send = PecSend.objects.select_for_update().get(pk=send_id)
        if send.status == DispatchStatus.SUBMITTING:
            _record(send, DispatchStatus.UNKNOWN, "worker_stopped", "", "")
            return None
        if send.status != DispatchStatus.QUEUED:
            return None
        send.status = DispatchStatus.SUBMITTING
        send.submitted_at = timezone.now()
        send.save(update_fields=["status", "submitted_at"])
        return send


def send_dispatch(*, send_id: int) -> PecSend:
    """Send one confirmed PEC: at most one POST /send per row, ever."""
    send = _claim(send_id)
    if send is None:
        return PecSend.objects.get(pk=send_id)
    files = [PecAttachment(a.name, bytes(a.content)) for a in send.attachments.all()]
    try:
        result = PecGateway.for_mailbox(send.mailbox).send(
            recipients=send.recipients,
            subject=send.subject,
            body_html=send.body_html,
            attachments=files,
        )
    except (errors.UnknownOutcome, errors.ProviderTimeout) as exc:
        code = "unknown_outcome"
        _record(send, DispatchStatus.UNKNOWN, code, exc.message, error_detail(exc))
    except errors.ProviderError as exc:  # refused, or never left (host unreachable)
        code = error_code(exc)
        _record(send, DispatchStatus.FAILED, code, exc.message, error_detail(exc))
    except Exception as exc:
        _record(send, DispatchStatus.UNKNOWN, "unexpected", "", repr(exc))
        raise
    else:
        now = timezone.now()
        send.status = DispatchStatus.SENT
        send.provider_code = result.code
        send.sent_count = result.sent
        send.sent_at = now
        send.next_check_at = now + _backoff(0)
        send.save()
    return send


STALLED_AFTER = timedelta(minutes=10)


def sends_recover_stalled(*, now: datetime | None = None) -> int:
    """Sends a lost task left behind: queued ones are queued again (the claim keeps
    them from leaving twice); one stuck `submitting` may have left: `unknown`."""
    now = now or timezone.now()
    queued = PecSend.objects.filter(
        status=DispatchStatus.QUEUED, confirmed_at__lt=now - STALLED_AFTER
    ).values_list("pk", flat=True)
    for send_id in queued:
        enqueue_send(send_id)
    stuck = PecSend.objects.filter(
        status=DispatchStatus.SUBMITTING, submitted_at__lt=now - STALLED_AFTER
    )
    for send in stuck:
        with transaction.atomic():
            locked = PecSend.objects.select_for_update().get(pk=send.pk)
            if locked.status == DispatchStatus.SUBMITTING:
                _record(locked, DispatchStatus.UNKNOWN, "worker_stopped", "", "")
    return len(queued) + len(stuck)


def _record(send: PecSend, status: str, code: str, message: str, detail: str) -> None:
    """Store a failure as a code and the provider's words (see errors.message_for)."""
    send.status = status
    send.error_code, send.error, send.error_detail = code, message, detail
    send.save(update_fields=["status", "error_code", "error", "error_detail"])


@transaction.atomic
def send_resend(*, send: PecSend, user: Any) -> PecSend:
    """A new send with the same content, after the operator checked and confirmed."""
    if send.status not in (DispatchStatus.UNKNOWN, DispatchStatus.FAILED):
        raise PecActionRefused(
            _("Only a refused send or one of unknown outcome can be sent again.")
        )
    copy = PecSend.objects.create(
        mailbox=send.mailbox,
        recipients=list(send.recipients),
        subject=send.subject,
        body_html=send.body_html,
        created_by=user,
        resend_of=send,
        status=DispatchStatus.QUEUED,
        confirmed_at=timezone.now(),
    )
    for attachment in send.attachments.all():
        PecAttachmentFile.objects.create(
            send=copy,
            name=attachment.name,
            content_type=attachment.content_type,
            size=attachment.size,
            content=bytes(attachment.content),
        )
    transaction.on_commit(lambda: enqueue_send(copy.pk))
    return copy


# --- receipts ----------------------------------------------------------------------
@dataclass(frozen=True)
class RefreshOutcome:
    new_receipts: int
    state: str
    error: str = ""


def _backoff(checks: int) -> timedelta:
    first = settings.PEC_REFRESH_FIRST_SECONDS
    return timedelta(seconds=min(first * 2**checks, settings.PEC_REFRESH_MAX_SECONDS))


def send_refresh(
    *, send: PecSend, now: datetime | None = None, interactive: bool = False
) -> RefreshOutcome:
    """Fetch the receipts of one send, store the new ones, derive its state."""
    if not send.provider_code:
        raise PecActionRefused(_("This PEC has no code yet: nothing to check."))
    now = now or timezone.now()
    try:
        gateway = PecGateway.for_mailbox(send.mailbox, interactive=interactive)
        status = gateway.get_send(
            code=send.provider_code, expected_recipients=len(send.recipients)
        )
    except errors.ProviderError as exc:
        send.checks += 1
        send.next_check_at = _next_check(send, now)
        send.save(update_fields=["checks", "next_check_at"])
        return RefreshOutcome(0, send.state, error_message(exc))
    with transaction.atomic():
        locked = PecSend.objects.select_for_update().get(pk=send.pk)
        created = receipt_store.store_new(locked, status.receipts)
        receipt_store.apply_state(locked)
        locked.checked_at = now
        locked.checks += 1
        locked.next_check_at = _next_check(locked, now)
        locked.save()
        alarming = [r for r in created if r.kind in receipt_store.ALERT_KINDS]
        if alarming:
            transaction.on_commit(lambda: notify_alarming(locked, alarming))
    send.refresh_from_db()
    return RefreshOutcome(len(created), send.state)


def _next_check(send: PecSend, now: datetime) -> datetime | None:
    """Back-off until a final state, or until the horizon after the send."""
    if send.is_final or send.sent_at is None:
        return None
    horizon = send.sent_at + timedelta(hours=settings.PEC_REFRESH_HORIZON_HOURS)
    if now >= horizon:
        return None
    return min(now + _backoff(send.checks), horizon)


def sends_refresh_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Refresh every send whose next check is due (periodic task and command)."""
    now = now or timezone.now()
    due = PecSend.objects.filter(
        status=DispatchStatus.SENT, next_check_at__lte=now
    ).select_related("mailbox")[:limit]
    refreshed = 0
    for send in due:
        outcome = send_refresh(send=send, now=now)
        if outcome.error:
            logger.warning("Receipts of PEC send %s: %s", send.pk, outcome.error)
        refreshed += 1
    return refreshed


def send_delete_at_provider(*, send: PecSend, interactive: bool = False) -> None:
    """DELETE /send/{code}: the mailbox copies go, the stored receipts stay."""
    if not send.provider_code:
        raise PecActionRefused(_("This PEC has no code: nothing to delete."))
    # already gone at the provider (404): the outcome is the same
    with contextlib.suppress(errors.NotFound):
        gateway = PecGateway.for_mailbox(send.mailbox, interactive=interactive)
        gateway.delete_send(code=send.provider_code)
    send.deleted_at_provider = timezone.now()
    send.save(update_fields=["deleted_at_provider"])


# --- inbox and quota -----------------------------------------------------------------
def inbox_list(
    *, mailbox: PecMailbox, page: int = 1, search: str = "", interactive: bool = False
) -> InboxPage:
    return PecGateway.for_mailbox(mailbox, interactive=interactive).list_inbox(
        page=max(1, page), search=search.strip() or None
    )


def inbox_read(
    *, mailbox: PecMailbox, message_id: int, interactive: bool = False
) -> InboxMessage:
    gateway = PecGateway.for_mailbox(mailbox, interactive=interactive)
    return gateway.get_message(message_id=message_id)


def inbox_delete(
    *, mailbox: PecMailbox, message_id: int, interactive: bool = False
) -> None:
    gateway = PecGateway.for_mailbox(mailbox, interactive=interactive)
    gateway.delete_message(message_id=message_id)


def mailbox_refresh_quota(
    *, mailbox: PecMailbox, interactive: bool = False
) -> PecMailbox:
    """GET /quota/INBOX, stored on the mailbox for the gauge."""
    quota = PecGateway.for_mailbox(mailbox, interactive=interactive).get_quota()
    mailbox.quota_usage = quota.usage
    mailbox.quota_limit = quota.limit
    mailbox.quota_checked_at = timezone.now()
    mailbox.save(update_fields=["quota_usage", "quota_limit", "quota_checked_at"])
    return mailbox


def mailboxes_refresh_stale_quotas(*, older_than: timedelta = QUOTA_MAX_AGE) -> int:
    """Keep every gauge recent (one call per mailbox per `older_than`)."""
    stale = PecMailbox.objects.filter(
        Q(quota_checked_at__isnull=True)
        | Q(quota_checked_at__lt=timezone.now() - older_than)
    )
    refreshed = 0
    for mailbox in stale:
        try:
            mailbox_refresh_quota(mailbox=mailbox)
        except errors.ProviderError as exc:
            logger.warning("Quota of %s not refreshed: %s", mailbox, exc)
            continue
        refreshed += 1
    return refreshed
