"""Leader election decisions: who takes, keeps and waits for the Lease, at which time. Expiry is
counted on the observer's own clock (how long it has seen the record unchanged), never from the
holder's renewTime."""

from datetime import datetime, timedelta, timezone

import pytest

from updraft.leader.election import LeaseRecord, decide, released, sight, still_leader

T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def held_by(holder: str | None, renewed_at: float, transitions: int = 3) -> LeaseRecord:
    return LeaseRecord(holder, at(-100), at(renewed_at), 15, transitions)


def test_no_lease_is_acquired_without_a_transition():
    d = decide(None, "a", at(0), 15, 5, 0)
    assert d.action == "acquire"
    assert d.record == LeaseRecord("a", at(0), at(0), 15, 0)
    assert d.retry_in_s == 5


def test_the_holder_renews_keeping_its_acquire_time():
    d = decide(held_by("a", -4), "a", at(0), 15, 5, 0)
    assert d.action == "renew"
    assert d.record is not None
    assert (d.record.holder, d.record.acquired, d.record.renewed, d.record.transitions) == ("a", at(-100), at(0), 3)


@pytest.mark.parametrize("unchanged_for, retry", [(1, 5), (12, 3), (14.9, 0.5)])
def test_others_wait_while_the_lease_is_fresh(unchanged_for, retry):
    d = decide(held_by("a", -1), "b", at(0), 15, 5, unchanged_for)
    assert d.action == "wait" and d.record is None
    assert d.retry_in_s == pytest.approx(retry)


@pytest.mark.parametrize("unchanged_for", [15, 16, 3600])
def test_an_expired_lease_is_taken_over_counting_a_transition(unchanged_for):
    d = decide(held_by("a", -1), "b", at(0), 15, 5, unchanged_for)
    assert d.action == "acquire"
    assert d.record == LeaseRecord("b", at(0), at(0), 15, 4)


@pytest.mark.parametrize("renewed_at", [-3600, 3600])
def test_the_holders_clock_does_not_decide_expiry(renewed_at):
    """A renewTime an hour in the past (the standby's clock runs ahead) or in the future (it runs
    behind): a record just seen changing is fresh, one unchanged for the duration has expired."""
    assert decide(held_by("a", renewed_at), "b", at(0), 15, 5, 0).action == "wait"
    assert decide(held_by("a", renewed_at), "b", at(0), 15, 5, 15).action == "acquire"


def test_the_holders_own_duration_decides():
    lease = LeaseRecord("a", at(-100), at(0), 40, 3)
    assert decide(lease, "b", at(0), 15, 5, 30).action == "wait"
    assert decide(lease, "b", at(0), 15, 5, 40).action == "acquire"


def test_a_sighting_restarts_when_the_record_changes():
    first = sight(None, held_by("a", 0), 100.0)
    assert first.unchanged_for(107.5) == 7.5
    assert sight(first, held_by("a", 0), 108.0) is first  # the same record: still counting
    renewed = sight(first, held_by("a", 5), 109.0)  # a renewal: counting again from now
    assert renewed.unchanged_for(110.0) == 1.0
    assert sight(renewed, None, 111.0).since == 111.0


def test_a_released_lease_is_taken_at_once():
    lease = released(held_by("a", -1), at(-0.5))
    assert lease.holder is None
    d = decide(lease, "b", at(0), 15, 5, 0)
    assert d.action == "acquire" and d.record is not None
    assert (d.record.holder, d.record.transitions) == ("b", 4)


def test_the_lease_survives_a_round_trip_through_its_spec():
    record = LeaseRecord("updraft-operator-7d9-abc", at(-100), at(0.123456), 15, 7)
    spec = record.to_spec()
    assert spec["renewTime"] == "2026-11-22T10:00:00.123456Z"
    assert LeaseRecord.from_lease({"spec": spec}) == record
    assert LeaseRecord.from_lease({"metadata": {"name": "x"}}) is None


def test_from_lease_reads_what_the_api_server_writes():
    record = LeaseRecord.from_lease({"spec": {"holderIdentity": "a", "renewTime": "2026-11-22T10:00:05.000000Z",
                                              "leaseDurationSeconds": 15}})
    assert record == LeaseRecord("a", None, at(5), 15, 0)


@pytest.mark.parametrize("since, leader", [(0, True), (9.9, True), (10, False), (60, False)])
def test_still_leader_until_the_renew_deadline(since, leader):
    assert still_leader(500.0, 500.0 + since, 10) is leader
