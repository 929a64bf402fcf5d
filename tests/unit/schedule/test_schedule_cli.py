"""`updraft schedule next`: UTC instants one per line, clear errors, exit codes."""

from __future__ import annotations

import pytest

from updraft.cli import main


def test_prints_next_fire_times(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "next", "--cron", "30 2 * * *", "--timezone", "Europe/Paris",
                 "--after", "2026-03-28T12:00:00Z", "--count", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == ["2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"]


def test_after_without_offset_is_utc_and_local_shows_wall_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "next", "--cron", "0 9 * * *", "--timezone", "Asia/Kathmandu",
                 "--after", "2026-06-01T00:00:00", "--local"]) == 0
    assert capsys.readouterr().out.strip() == "2026-06-01T03:15:00Z  2026-06-01T09:00:00+05:45"


@pytest.mark.parametrize(("args", "message"), [
    (["--cron", "99 * * * *"], "--cron"),
    (["--cron", "@daily", "--timezone", "Moon/Base"], "--timezone"),
    (["--cron", "@daily", "--after", "soon"], "--after"),
    (["--cron", "@daily", "--count", "0"], "--count"),
])
def test_bad_input_exits_2_with_a_clear_message(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "next", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
