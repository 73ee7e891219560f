"""DLQ redrive's pure parts: an entry's status from its failures, the audit and the inbox; the original partition;
the CLI's `since` (the integration test is tests/reliability/test_dlq_redrive.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from devstack.dlq import since_time
from vipcore.dlq import Entry, _Failure, _partition

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def entry(*failures_at: datetime, actions: Sequence[tuple[str, datetime]] = (), applied: bool = False) -> Entry:
    e = Entry("e1", "pos.sales", "loyalty.pos.sales", "pos.sale.recorded", "e1", applied=applied)
    e.failures = [_Failure("pos.sales.dlq", i, at, f"err {i}", b"k", b"{}", [], "pos.sales/2/7")
                  for i, at in enumerate(failures_at)]
    e.actions = [{"action": a, "operator": "ops", "reason": None, "redrive_id": None, "at": at} for a, at in actions]
    return e


def test_status_follows_the_last_action_and_failure() -> None:
    assert entry(T0).status == "pending"
    assert entry(T0, actions=[("replay", T0 + timedelta(minutes=1))]).status == "replayed"
    # replayed, then dead-lettered again: pending once more
    assert entry(T0, T0 + timedelta(minutes=2), actions=[("replay", T0 + timedelta(minutes=1))]).status == "pending"
    assert entry(T0, actions=[("replay", T0 + timedelta(minutes=1)), ("discard", T0 + timedelta(minutes=3))]
                 ).status == "discarded"
    assert entry(T0, actions=[("discard", T0 + timedelta(minutes=1))], applied=True).status == "applied"


def test_entry_shows_first_and_last_failure_and_count() -> None:
    out = entry(T0, T0 + timedelta(minutes=5)).out()
    assert (out.first_failure_at, out.last_failure_at, out.count, out.reason) == (T0, T0 + timedelta(minutes=5),
                                                                                 2, "err 1")


def test_replay_goes_to_the_original_partition_of_the_same_topic_only() -> None:
    assert _partition("pos.sales/2/7", "pos.sales") == 2
    assert _partition("t1.pos.sales/0/7", "pos.sales") is None
    assert _partition(None, "pos.sales") is None
    assert _partition("garbage", "pos.sales") is None


def test_cli_since_takes_a_duration_or_an_aware_time() -> None:
    assert abs(since_time("2h") - (datetime.now(UTC) - timedelta(hours=2))) < timedelta(seconds=5)
    assert since_time("2026-12-01T08:00:00+08:00") == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    with pytest.raises(Exception, match="offset"):
        since_time("2026-12-01T08:00:00")
