"""A batch's acceptance written behind the next send (PostgreSQL), never lost.

`AnswerWriter` on its own, then whole dispatches on PostgreSQL with committed
rows (a second connection sees nothing of a test's open transaction).
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from campaigns import answer_writer, dispatch, services
from campaigns.models import BatchStatus, CampaignStatus, Delivery, DeliveryStatus
from partnerhub.providers import errors
from tests.counter_checks import assert_counters_agree
from tests.test_campaign_dispatch import (  # noqa: F401 (fixture)
    provider,
    scheduled_campaign,
    statuses,
)


def test_inline_writer_writes_at_once_in_the_callers_thread() -> None:
    seen: list[tuple[int, int]] = []
    writer = answer_writer.AnswerWriter(
        lambda n: seen.append((n, threading.get_ident())), behind=False
    )
    writer.submit(1)
    assert seen == [(1, threading.get_ident())]
    writer.close()


def test_behind_writer_keeps_order_stays_one_behind_and_raises_errors() -> None:
    gate, seen = threading.Event(), []

    def write(n: int) -> None:
        if n == 1:
            assert gate.wait(5)
        seen.append((n, threading.get_ident()))

    writer = answer_writer.AnswerWriter(write, behind=True)
    writer.submit(1)
    assert seen == []  # the caller went on while 1 is being written
    gate.set()
    writer.submit(2)  # waits for 1 first: never two behind
    assert seen[0][0] == 1
    writer.wait()
    assert [n for n, _ in seen] == [1, 2]
    assert {ident for _, ident in seen} != {threading.get_ident()}

    def fail(n: int) -> None:
        raise RuntimeError(f"write {n} failed")

    failing = answer_writer.AnswerWriter(fail, behind=True)
    failing.submit(3)
    with pytest.raises(RuntimeError, match="write 3 failed"):
        failing.close()


def test_two_deep_writer_runs_two_answers_at_once_and_waits_for_both() -> None:
    both_running, done = threading.Barrier(2, timeout=5), []

    def write(n: int) -> None:
        both_running.wait()  # fails unless 1 and 2 run side by side
        done.append(n)

    writer = answer_writer.AnswerWriter(write, behind=True, depth=2)
    writer.submit(1)
    writer.submit(2)
    writer.close()
    assert sorted(done) == [1, 2]


@pytest.mark.django_db
def test_inside_a_transaction_or_on_sqlite_answers_are_written_inline() -> None:
    assert not answer_writer.writes_behind()  # pytest-django's open transaction


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="write-behind is PostgreSQL's"
)


def _threads_writing_answers(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    threads: set[int] = set()
    write = dispatch._write_answer

    def recorded(answer: dispatch.Answer) -> None:
        threads.add(threading.get_ident())
        write(answer)

    monkeypatch.setattr(dispatch, "_write_answer", recorded)
    return threads


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_dispatch_writes_acceptances_behind_and_loses_none(
    provider,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = provider()
    threads = _threads_writing_answers(monkeypatch)
    campaign = scheduled_campaign(1203)
    result = dispatch.dispatch(campaign.pk, sleep=lambda s: None)

    assert result.status == CampaignStatus.SENT and p.calls == 3
    assert threads and threading.get_ident() not in threads
    assert statuses(campaign) == {DeliveryStatus.ACCEPTED: 1203}
    batches = campaign.batches.all()
    assert Counter(b.status for b in batches) == {BatchStatus.ACCEPTED: 3}
    for batch in batches:
        assert batch.owned_deliveries().count() == batch.size
    assert_counters_agree()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_refusal_after_answers_written_behind_fails_only_the_rest(
    provider,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = errors.InsufficientCredits("no credit", code=11, provider="mailpartner")
    provider(script=["ok", "ok", refused])
    _threads_writing_answers(monkeypatch)
    campaign = scheduled_campaign(1203)
    result = dispatch.dispatch(campaign.pk, sleep=lambda s: None)

    assert result.status == CampaignStatus.FAILED
    assert statuses(campaign) == {
        DeliveryStatus.ACCEPTED: 1000,
        DeliveryStatus.FAILED: 203,
    }
    assert not campaign.batches.filter(status=BatchStatus.IN_FLIGHT).exists()
    assert_counters_agree()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_status_refresh_writes_behind_and_settles_after_the_last_write(
    provider,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider()
    campaign = scheduled_campaign(1203)
    dispatch.dispatch(campaign.pk, sleep=lambda s: None)
    threads: set[int] = set()
    apply = dispatch.apply_status_updates

    def recorded(*args: object) -> int:
        threads.add(threading.get_ident())
        return apply(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(dispatch, "apply_status_updates", recorded)
    campaign.refresh_from_db()

    assert services.campaign_refresh_statuses(campaign=campaign) == 1203
    assert threads and threading.get_ident() not in threads
    assert statuses(campaign) == {DeliveryStatus.DELIVERED: 1203}
    campaign.refresh_from_db()
    assert campaign.settled_at is not None
    assert_counters_agree()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_status_refresh_fetches_its_batches_side_by_side(
    provider,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three batches' `bulk-status` calls are in flight at once (each waits for
    the other two): the provider's answer time overlaps the others' work."""
    p = provider()
    campaign = scheduled_campaign(1203)
    dispatch.dispatch(campaign.pk, sleep=lambda s: None)
    all_three_asked = threading.Barrier(services.REFRESH_BATCHES_AT_ONCE, timeout=5)
    statuses_of = p.statuses

    def side_by_side(*, message_id: str) -> list[object]:
        all_three_asked.wait()  # broken (an error) unless three are asked at once
        return statuses_of(message_id=message_id)

    monkeypatch.setattr(p, "statuses", side_by_side)
    campaign.refresh_from_db()

    assert services.campaign_refresh_statuses(campaign=campaign) == 1203
    assert statuses(campaign) == {DeliveryStatus.DELIVERED: 1203}
    assert_counters_agree()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_provider_error_in_one_batch_of_a_refresh_keeps_the_others_written(
    provider,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The error reaches the caller (the task retries the refresh later); the
    batches written side by side stay written, and the campaign is not settled."""
    p = provider()
    campaign = scheduled_campaign(1203)
    dispatch.dispatch(campaign.pk, sleep=lambda s: None)
    failing = campaign.batches.get(number=2).provider_message_id
    statuses_of = p.statuses

    def one_fails(*, message_id: str) -> list[object]:
        if message_id == failing:
            raise errors.ProviderUnavailable("down", provider="mailpartner")
        return statuses_of(message_id=message_id)

    monkeypatch.setattr(p, "statuses", one_fails)
    campaign.refresh_from_db()

    with pytest.raises(errors.ProviderUnavailable):
        services.campaign_refresh_statuses(campaign=campaign)
    assert statuses(campaign) == {
        DeliveryStatus.DELIVERED: 703,
        DeliveryStatus.ACCEPTED: 500,
    }
    campaign.refresh_from_db()
    assert campaign.settled_at is None
    assert_counters_agree()


@pytest.mark.django_db
def test_a_refresh_asks_only_for_the_batches_with_a_status_still_open(
    provider,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch whose deliveries are all final (delivered, not delivered,
    suppressed…) is not asked about again."""
    p = provider()
    campaign = scheduled_campaign(1203)
    dispatch.dispatch(campaign.pk, sleep=lambda s: None)
    first, second, third = campaign.batches.order_by("number")
    first.owned_deliveries().update(status=DeliveryStatus.DELIVERED)
    all_but_one = list(second.owned_deliveries().values_list("pk", flat=True)[:499])
    Delivery.objects.filter(pk__in=all_but_one).update(
        status=DeliveryStatus.NOT_DELIVERED
    )
    asked: list[str] = []
    statuses_of = p.statuses

    def recorded(*, message_id: str) -> list[object]:
        asked.append(message_id)
        return statuses_of(message_id=message_id)

    monkeypatch.setattr(p, "statuses", recorded)
    campaign.refresh_from_db()

    services.campaign_refresh_statuses(campaign=campaign)
    assert asked == [second.provider_message_id, third.provider_message_id]
