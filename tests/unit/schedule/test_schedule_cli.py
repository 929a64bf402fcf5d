"""`updraft schedule next`: UTC instants one per line, bounds, --local, clear errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import pytest

from updraft.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["schedule", "next", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_prints_next_fire_times(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--cron", "30 2 * * *", "--timezone", "Europe/Paris",
                         "--after", "2026-03-28T12:00:00Z", "--count", "2")
    assert (code, out, err) == (0, ["2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"], "")


def test_after_without_offset_is_utc_and_local_shows_wall_time(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--cron", "0 9 * * *", "--timezone", "Asia/Kathmandu",
                       "--after", "2026-06-01T00:00:00", "--local")
    assert (code, out) == (0, ["2026-06-01T03:15:00Z  2026-06-01T09:00:00+05:45"])


def test_after_with_an_offset(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--cron", "@hourly", "--after", "2026-06-01T10:30:00+02:00", "--count", "2")
    assert (code, out) == (0, ["2026-06-01T09:00:00Z", "2026-06-01T10:00:00Z"])


def test_overlap_hourly_fires_in_both_hours(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--cron", "30 * * * *", "--timezone", "Europe/Zurich",
                       "--after", "2026-10-25T00:00Z", "--count", "3", "--local")
    assert code == 0 and out == ["2026-10-25T00:30:00Z  2026-10-25T02:30:00+02:00",
                                 "2026-10-25T01:30:00Z  2026-10-25T02:30:00+01:00",
                                 "2026-10-25T02:30:00Z  2026-10-25T03:30:00+01:00"]


def test_start_and_end_are_wall_times_in_the_zone(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--cron", "0 9 * * *", "--timezone", "Europe/Berlin", "--after", "2026-01-01T00:00Z",
                         "--start", "2026-05-10T09:00", "--end", "2026-05-11T09:00", "--count", "5")
    assert code == 0 and out == ["2026-05-10T07:00:00Z", "2026-05-11T07:00:00Z"]
    assert "2 of 5" in err


def test_once_without_start_prints_nothing_and_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--cron", "@once", "--after", "2026-01-01T00:00Z")
    assert (code, out) == (0, []) and "no more" in err


def test_after_defaults_to_now(capsys: pytest.CaptureFixture[str]) -> None:
    before = datetime.now(timezone.utc)
    code, out, _ = run(capsys, "--cron", "* * * * *", "--count", "2")
    first = datetime.fromisoformat(out[0].replace("Z", "+00:00"))
    assert code == 0 and len(out) == 2 and 0 < (first - before).total_seconds() <= 61


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["--cron", "99 * * * *"], "--cron '99 * * * *' is not a valid cron", id="bad-cron"),
    pytest.param(["--cron", "0 0 31 2 *"], "--cron '0 0 31 2 *' never fires", id="never-fires"),
    pytest.param(["--cron", "@daily", "--timezone", "Moon/Base"], "--timezone unknown time zone 'Moon/Base'",
                 id="bad-zone"),
    pytest.param(["--cron", "@daily", "--after", "soon"], "--after 'soon' is not an ISO-8601", id="bad-after"),
    pytest.param(["--cron", "@daily", "--start", "2026-13-01"], "--start '2026-13-01' is not an ISO-8601",
                 id="bad-start"),
    pytest.param(["--cron", "@daily", "--start", "2026-02-01", "--end", "2026-01-01"], "--end", id="end-before-start"),
    pytest.param(["--cron", "@daily", "--count", "0"], "--count must be from 1 to 1000", id="count-zero"),
    pytest.param(["--cron", "@daily", "--count", "1001"], "--count must be from 1 to 1000", id="count-too-big"),
    pytest.param(["--cron", "@daily", "--after", "9999-12-31T12:00Z"], "cannot compute", id="beyond-year-9999"),
])
def test_bad_input_exits_2_with_a_clear_message(args: list[str], message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == []
    assert err.startswith("updraft schedule next: ") and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_schedule_without_subcommand_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule"]) == 2
    assert "next" in capsys.readouterr().err


def test_runs_as_a_process() -> None:
    done = subprocess.run([sys.executable, "-m", "updraft.cli", "schedule", "next", "--cron", "0 0 29 2 *",
                           "--after", "2026-01-01T00:00Z", "--count", "2"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "2028-02-29T00:00:00Z\n2032-02-29T00:00:00Z\n")
