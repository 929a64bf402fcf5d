"""The API commands' command line: every command has examples and its exit codes in --help, the
kubectl plugin entry point is declared and names itself `kubectl updraft`, and option errors are
one line with exit 2 before anything is called (no endpoint is configured here)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from updraft.cli import build_parser, main

TOP = Path(__file__).parents[3]
LEAVES = [("workflow", "list"), ("workflow", "get"), ("run", "start"), ("run", "list"), ("run", "get"),
          ("run", "stop"), ("run", "wait")]


@pytest.mark.parametrize("path", LEAVES, ids=[" ".join(p) for p in LEAVES])
def test_help_has_examples_exit_codes_and_connection(path: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main([*path, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: updraft {' '.join(path)}")
    for part in ("Examples:\n  updraft " + " ".join(path), "Exit status:", "UPDRAFT_ENDPOINT_URL", "--endpoint-url",
                 "--region", "-o"):
        assert part in out, part


def test_kubectl_plugin_entry_point(capsys: pytest.CaptureFixture[str]) -> None:
    scripts = tomllib.loads((TOP / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["kubectl-updraft"] == "updraft.cli:kubectl_main"
    assert build_parser("kubectl updraft").parse_args(["run", "list", "wf"]).workflow == "wf"
    with pytest.raises(SystemExit):
        main(["run", "stop", "--help"], prog="kubectl updraft")
    assert capsys.readouterr().out.startswith("usage: kubectl updraft run stop")


@pytest.mark.parametrize("argv, words", [
    (["run", "start", "wf", "-p", "novalue"], ["updraft run start: -p 'novalue'"]),
    (["run", "start", "wf", "--wait", "--timeout", "soon"], ["--timeout 'soon' is not a duration"]),
    (["run", "start", "wf", "--timeout", "5m"], ["--timeout needs --wait or --watch"]),
    (["run", "wait", "wf", "r1", "--poll-interval", "0"], ["--poll-interval must be above 0"]),
    (["run", "list", "wf", "--limit", "-1"], ["--limit must be 0"]),
    (["workflow", "get", "wf", "--count", "101"], ["--count must be from 0 to 100"]),
    (["workflow", "get", "arn:aws:nope"], ["WORKFLOW 'arn:aws:nope' is not a workflow ARN"]),
    (["run", "get", "wf", ""], ["RUN '' is not a run id"]),
    (["run", "stop", "wf", "r 1"], ["RUN 'r 1' is not a run id"]),
    (["workflow", "list"], ["no API endpoint configured", "--endpoint-url", "UPDRAFT_ENDPOINT_URL"]),
    (["workflow", "list", "--endpoint-url", "localhost:8443"], ["--endpoint-url 'localhost:8443' is not an http"]),
])
def test_bad_options_are_one_line_and_exit_2(argv: list[str], words: list[str], capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPDRAFT_ENDPOINT_URL", raising=False)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    for w in words:
        assert w in captured.err


def test_run_and_workflow_alone_print_their_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2 and "start" in capsys.readouterr().err
    assert main(["workflow"]) == 2 and "list" in capsys.readouterr().err
