"""The fault schedule: replayable from its seed, and as much of each fault as the profile says."""

from schedule import FULL, SHORT, TARGETS, counts, plan


def test_the_same_seed_gives_the_same_schedule_and_another_seed_another() -> None:
    assert plan(7, SHORT) == plan(7, SHORT)
    assert plan(7, SHORT) != plan(8, SHORT)


def test_the_full_profile_reaches_what_issue_15_asks_for() -> None:
    c = counts(plan(1, FULL))
    assert FULL.runs >= 300
    assert c["kill"] + c["kill-after"] >= 30 and c["kill-after"] >= 15
    assert c["apiserver-restart"] >= 2 and c["pod-fault"] >= 50


def test_faults_fall_inside_the_window_in_time_order_and_targets_cover_every_write() -> None:
    for seed in range(20):
        faults = plan(seed, FULL)
        assert [f.at for f in faults] == sorted(f.at for f in faults)
        assert all(0.1 * FULL.seconds <= f.at <= 0.85 * FULL.seconds for f in faults)
        assert {f.detail["target"] for f in faults if f.kind == "kill-after"} == set(TARGETS)


def test_apiserver_restarts_are_spread_apart() -> None:
    for seed in range(50):
        times = [f.at for f in plan(seed, FULL) if f.kind == "apiserver-restart"]
        assert all(b - a >= 0.1 * FULL.seconds for a, b in zip(times, times[1:]))
