"""Two-way sync of the suppression list against the live provider sandbox."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from partnerhub.providers.factory import get_mailpartner_client, get_smspartner_client
from unsubscribes import services, tasks
from unsubscribes.models import Source, Unsubscribe, UnsubscribeSync
from unsubscribes.sync import unsubscribes_sync

pytestmark = pytest.mark.django_db

WRITES = {
    "mail": ("/unsubscribe/add", "/unsubscribe/delete"),
    "sms": ("/stop-sms/add", "/stop-sms/delete"),
}


@pytest.fixture(autouse=True)
def _live(sandbox_settings):
    return sandbox_settings


def writes(sandbox, provider="mail"):
    return [
        r
        for r in sandbox.requests(provider=provider)
        if r["path"].startswith(WRITES[provider])
    ]


def remote_mail():
    return {e.email.lower(): e.id for e in get_mailpartner_client().unsubscribe_list()}


def remote_sms():
    return {e.phone_number: e.id for e in get_smspartner_client().stop_list()}


def add(address, channel="email", **kwargs):
    return services.unsubscribe_add(channel=channel, address=address, **kwargs)


def test_provider_entries_are_pulled_with_their_ids(sandbox):
    stop_id = get_mailpartner_client().unsubscribe_add(email="Jean.Dupont@Example.fr")
    get_smspartner_client().stop_add(phone_number="0612345678")
    email = unsubscribes_sync(channel="email")
    sms = unsubscribes_sync(channel="sms")
    assert (email.pulled, sms.pulled) == (1, 1)
    row = Unsubscribe.objects.get(channel="email")
    assert (row.address, row.source, row.provider_id) == (
        "jean.dupont@example.fr",
        Source.PROVIDER,
        str(stop_id),
    )
    assert Unsubscribe.objects.get(channel="sms").address == "+33612345678"
    assert len(writes(sandbox)) + len(writes(sandbox, "sms")) == 2  # the setup's


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_local_additions_are_pushed_once(sandbox, channel):
    address = "claire@example.fr" if channel == "email" else "06 11 22 33 44"
    row = add(address, channel=channel).unsubscribe
    result = unsubscribes_sync(channel=channel)
    assert result.pushed == 1 and result.ok
    remote = remote_mail() if channel == "email" else remote_sms()
    row.refresh_from_db()
    assert row.provider_id == str(remote[row.address]) and row.synced_at
    provider = "mail" if channel == "email" else "sms"
    assert len(writes(sandbox, provider)) == 1


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_second_run_changes_nothing_and_writes_nothing(sandbox, channel):
    provider = "mail" if channel == "email" else "sms"
    add("a@example.fr" if channel == "email" else "0611111111", channel=channel)
    if channel == "email":
        get_mailpartner_client().unsubscribe_add(email="b@example.fr")
    else:
        get_smspartner_client().stop_add(phone_number="0622222222")
    unsubscribes_sync(channel=channel)
    before = list(
        Unsubscribe.objects.values_list("address", "provider_id", "synced_at")
    )
    log_size = len(writes(sandbox, provider))
    again = unsubscribes_sync(channel=channel)
    assert (again.pulled, again.pushed, again.deleted, again.conflicts) == (0, 0, 0, 0)
    assert len(writes(sandbox, provider)) == log_size
    assert (
        list(Unsubscribe.objects.values_list("address", "provider_id", "synced_at"))
        == before
    )


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_local_removal_is_pushed_as_a_deletion(sandbox, channel):
    address = "gone@example.fr" if channel == "email" else "0633333333"
    row = add(address, channel=channel).unsubscribe
    unsubscribes_sync(channel=channel)
    row.refresh_from_db()
    services.unsubscribe_remove(unsubscribe=row)
    assert not Unsubscribe.objects.active().exists()
    result = unsubscribes_sync(channel=channel)
    assert result.deleted == 1
    assert (remote_mail() if channel == "email" else remote_sms()) == {}
    assert not Unsubscribe.objects.exists()
    assert unsubscribes_sync(channel=channel).pulled == 0  # not pulled back


def test_remove_pushes_the_deletion_at_once_when_the_id_is_known(sandbox):
    row = add("now@example.fr").unsubscribe
    unsubscribes_sync(channel="email")
    row.refresh_from_db()
    services.unsubscribe_remove(unsubscribe=row)
    assert services.unsubscribe_push_removal(unsubscribe=row) is True
    assert remote_mail() == {} and not Unsubscribe.objects.exists()


def test_remove_falls_back_to_the_next_sync_on_provider_fault(sandbox):
    row = add("later@example.fr").unsubscribe
    unsubscribes_sync(channel="email")
    row.refresh_from_db()
    services.unsubscribe_remove(unsubscribe=row)
    sandbox.set_faults([{"provider": "mail", "path": "/unsubscribe/delete",
                         "fault": "http_500", "count": 1}])  # fmt: skip
    assert services.unsubscribe_push_removal(unsubscribe=row) is False
    assert Unsubscribe.objects.filter(removed_at__isnull=False).count() == 1
    assert unsubscribes_sync(channel="email").deleted == 1
    assert remote_mail() == {}


def test_conflict_removed_here_but_readded_at_provider_stays_suppressed(sandbox):
    row = add("back@example.fr").unsubscribe
    unsubscribes_sync(channel="email")
    row.refresh_from_db()
    client = get_mailpartner_client()
    client.unsubscribe_delete(entry_id=int(row.provider_id))  # deleted there...
    new_id = client.unsubscribe_add(email="back@example.fr")  # ...and re-added
    services.unsubscribe_remove(unsubscribe=row)
    result = unsubscribes_sync(channel="email")
    assert result.conflicts == 1 and result.deleted == 0
    row.refresh_from_db()
    assert row.removed_at is None and row.provider_id == str(new_id)
    assert remote_mail() == {"back@example.fr": new_id}
    assert [r["path"] for r in writes(sandbox)][-1] != "/unsubscribe/delete"


def test_conflict_deleted_at_provider_is_put_back(sandbox):
    row = add("keep@example.fr").unsubscribe
    unsubscribes_sync(channel="email")
    row.refresh_from_db()
    get_mailpartner_client().unsubscribe_delete(entry_id=int(row.provider_id))
    result = unsubscribes_sync(channel="email")
    assert (result.pushed, result.conflicts) == (1, 1)
    assert "keep@example.fr" in remote_mail()
    assert Unsubscribe.objects.active().count() == 1


def test_removal_of_an_address_never_at_provider_completes_without_calls(sandbox):
    row = add("local@example.fr").unsubscribe
    services.unsubscribe_remove(unsubscribe=row)
    result = unsubscribes_sync(channel="email")
    assert result.deleted == 1 and result.pushed == 0
    assert writes(sandbox) == [] and not Unsubscribe.objects.exists()


def test_address_refused_by_provider_stays_suppressed_and_is_not_retried(sandbox):
    row = Unsubscribe.objects.create(channel="sms", address="+999")  # bypasses checks
    first = unsubscribes_sync(channel="sms")
    assert first.rejected == 1 and first.ok
    row.refresh_from_db()
    assert row.provider_error and row.removed_at is None
    calls = len(writes(sandbox, "sms"))
    assert unsubscribes_sync(channel="sms").rejected == 0
    assert len(writes(sandbox, "sms")) == calls


def test_interrupted_sync_keeps_progress_and_next_run_finishes(sandbox):
    gone = add("old@example.fr").unsubscribe
    unsubscribes_sync(channel="email")
    gone.refresh_from_db()
    services.unsubscribe_remove(unsubscribe=gone)
    for n in range(5):
        add(f"new{n}@example.fr")
    sandbox.set_faults([  # two adds go through (a harmless rule), then 500s
        {"provider": "mail", "path": "/unsubscribe/add", "fault": "slow",
         "delay": 0, "count": 2},
        {"provider": "mail", "path": "/unsubscribe/add", "fault": "http_500"},
    ])  # fmt: skip
    first = unsubscribes_sync(channel="email")
    assert first.error and first.deleted == 0
    assert first.pushed == 2  # interrupted half-way
    state = UnsubscribeSync.objects.get(channel="email")
    assert state.error == first.error and state.running_since is None
    kept = Unsubscribe.objects.exclude(provider_id="").count()
    assert kept == 1 + first.pushed  # what was pushed is recorded
    sandbox.set_faults(
        [{"provider": "mail", "path": "/unsubscribe/delete", "fault": "reset"}]
    )
    second = unsubscribes_sync(channel="email")
    assert second.error and second.pushed == 3 and second.deleted == 0
    sandbox.clear_faults()
    third = unsubscribes_sync(channel="email")
    assert third.ok and third.deleted == 1 and third.pushed == 0
    assert set(remote_mail()) == {f"new{n}@example.fr" for n in range(5)}
    adds = [r for r in writes(sandbox) if r["path"] == "/unsubscribe/add"]
    succeeded = [r for r in adds if r["status"] == 200]
    assert len(succeeded) == 6  # the first address, then each new one exactly once
    assert UnsubscribeSync.objects.get(channel="email").error == ""


def test_lost_answer_on_add_is_linked_next_run_without_a_second_add(sandbox):
    add("lost@example.fr")
    sandbox.set_faults([{"provider": "mail", "path": "/unsubscribe/add",
                         "fault": "lost_response", "count": 1}])  # fmt: skip
    assert unsubscribes_sync(channel="email").error
    result = unsubscribes_sync(channel="email")
    assert result.ok and result.pushed == 0 and result.linked == 1
    assert len(writes(sandbox)) == 1
    assert Unsubscribe.objects.get().provider_id == str(
        remote_mail()["lost@example.fr"]
    )


def test_list_fault_changes_nothing(sandbox):
    add("x@example.fr")
    sandbox.set_faults([{"provider": "mail", "path": "/unsubscribe/list",
                         "fault": "malformed", "count": 1}])  # fmt: skip
    result = unsubscribes_sync(channel="email")
    assert result.error and result.pushed == 0
    assert writes(sandbox) == []


def test_a_running_sync_is_not_started_twice(sandbox):
    from django.utils import timezone

    UnsubscribeSync.objects.create(channel="email", running_since=timezone.now())
    add("busy@example.fr")
    assert unsubscribes_sync(channel="email").skipped
    assert writes(sandbox) == []


def test_command_and_task_sync_every_channel(sandbox, capsys):
    add("cmd@example.fr")
    add("0644444444", channel="sms")
    call_command("sync_unsubscribes")
    out = capsys.readouterr().out
    assert "email: 0 pulled, 1 pushed" in out and "sms: 0 pulled, 1 pushed" in out
    assert "pushed=0" in tasks.sync_unsubscribes()
    sandbox.set_faults([{"provider": "sms", "fault": "http_500"}])
    with pytest.raises(CommandError, match="sms"):
        call_command("sync_unsubscribes", "--channel", "sms")


def test_sync_is_a_declared_periodic_task():
    from django.utils.module_loading import import_string

    from partnerhub.schedules import PERIODIC_TASKS

    (task,) = [t for t in PERIODIC_TASKS if t.name == "sync-unsubscribes"]
    assert import_string(task.func) is tasks.sync_unsubscribes and task.minutes == 15


@pytest.mark.parametrize(("channel", "provider"), [("email", "mail"), ("sms", "sms")])
def test_a_subaccounts_own_list_is_pulled_too(sandbox, channel, provider):
    """Each sub-account has its own list at the provider (issue #14, point 7)."""
    from partnerhub.accounts import services as accounts
    from partnerhub.providers import factory
    from partnerhub.services import accounts_ensure_main
    from tests.factories import UserFactory

    main = next(a for a in accounts_ensure_main() if a.provider == provider)
    admin = UserFactory(username="boss", groups=["Admins"])
    created = accounts.subaccount_create(
        parent=main, account_type="simple", actor=admin, name="Agence"
    )
    sub = created.account
    if channel == "email":
        factory.get_mailpartner_client(sub).unsubscribe_add(email="Sub.Stop@example.fr")
        expected = "sub.stop@example.fr"
    else:
        factory.get_smspartner_client(sub).stop_add(phone_number="0622222222")
        expected = "+33622222222"

    result = unsubscribes_sync(channel=channel)

    assert result.error == ""
    row = Unsubscribe.objects.get(channel=channel, address=expected)
    assert row.source == "provider" and "Agence" in row.reason
    assert unsubscribes_sync(channel=channel).pulled == 0  # idempotent
