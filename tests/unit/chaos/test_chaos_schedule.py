"""The fault schedule: replayable from its seed, and as much of each fault as the profile says."""

from dataclasses import replace

from schedule import FULL, LOST_NODE, SHORT, TARGETS, counts, plan


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


def test_one_node_loss_in_the_full_profile_none_in_the_short_one() -> None:
    for seed in range(20):
        assert counts(plan(seed, FULL)).get("node-loss") == 1
        assert "node-loss" not in counts(plan(seed, SHORT))


def test_a_node_loss_falls_in_the_first_half_of_the_span_and_loses_the_fake_node_for_a_while() -> None:
    lo, hi = 0.10 * FULL.seconds, 0.85 * FULL.seconds
    for seed in range(50):
        (loss,) = [f for f in plan(seed, FULL) if f.kind == "node-loss"]
        assert lo <= loss.at <= (lo + hi) / 2
        assert loss.detail["node"] == LOST_NODE == "kwok-node-1"
        assert 30 <= loss.detail["down_s"] <= 60


def test_adding_node_losses_to_a_profile_keeps_the_seeds_other_faults() -> None:
    forced = replace(SHORT, node_losses=1)
    for seed in range(20):
        with_loss = plan(seed, forced)
        assert [f for f in with_loss if f.kind != "node-loss"] == plan(seed, SHORT)
        assert counts(with_loss)["node-loss"] == 1
