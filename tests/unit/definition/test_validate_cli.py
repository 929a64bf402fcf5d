"""`updraft validate`: exit codes, one line per error with its path, --json, stdin, no tracebacks."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from updraft.cli import main

GOOD = "d:\n  tasks:\n    t: {operator: S3ListOperator, bucket: b, queue: q}\n"
BAD = "d:\n  tasks:\n    t: {operator: S3ListOperator, retries: 7}\n    u: {operator: PythonOperator}\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    out = {}
    for name, text in (("good", GOOD), ("bad", BAD), ("garbage", "\x00\x01: [}{")):
        p = tmp_path / f"{name}.yaml"
        p.write_text(text)
        out[name] = str(p)
    return out


def test_valid_file_exits_0_and_prints_warnings(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", files["good"]]) == 0
    out, err = capsys.readouterr()
    assert out == f"{files['good']}: OK: d, 1 task(s), schedule None\n"
    assert err == (f"{files['good']}: warning: d.tasks.t.queue: queue is not supported by MWAA Serverless and is "
                   "ignored [ignored-parameter]\n")


def test_invalid_file_exits_1_with_one_line_per_error(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", files["good"], files["bad"]]) == 1
    out = capsys.readouterr().out.splitlines()
    errors = [line for line in out if ": error: " in line]
    assert any("d.tasks.t.retries:" in line and "[retries-range]" in line for line in errors)
    assert any("d.tasks.u.operator:" in line and "[operator-not-supported]" in line for line in errors)
    assert len(errors) == 2


def test_error_line_format(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-q", files["bad"]]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == (f"{files['bad']}: error: d.tasks.t.retries: retries must be between 0 and 3, "
                                   "got 7 [retries-range]")
    assert err == ""


def test_json_output(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--json", files["good"], files["bad"]]) == 1
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert err == ""
    assert [d["valid"] for d in doc] == [True, False]
    assert doc[0]["tasks"] == ["t"] and doc[0]["dag_id"] == "d" and doc[0]["schedule"] is None
    assert doc[0]["warnings"][0] == {"path": "d.tasks.t.queue", "rule": "ignored-parameter",
                                     "message": "queue is not supported by MWAA Serverless and is ignored"}
    assert {e["rule"] for e in doc[1]["errors"]} == {"retries-range", "operator-not-supported"}
    assert "dag_id" not in doc[1]


def test_json_is_a_list_even_for_one_file(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--json", files["good"]]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert isinstance(doc, list) and len(doc) == 1 and doc[0]["valid"] is True


def test_unreadable_file_does_not_stop_the_others(files: dict[str, str], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "missing.yaml")
    assert main(["validate", "--json", missing, files["bad"]]) == 2
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc[0]["file"] == missing and doc[0]["valid"] is False and "No such file" in doc[0]["read_error"]
    assert doc[1]["errors"]  # the second file was still checked
    assert f"{missing}: cannot read: No such file or directory" in err


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD))
    assert main(["validate", "-q", "-"]) == 0
    assert capsys.readouterr().out == ""
    monkeypatch.setattr("sys.stdin", io.StringIO(BAD))
    assert main(["validate", "-"]) == 1
    assert capsys.readouterr().out.startswith("<stdin>: error: d.tasks.t.retries:")


def test_directory_and_binary_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert main(["validate", str(tmp_path)]) == 2
    assert main(["validate", str(binary)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["validate"], ["validate", "--nope", "x.yaml"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2


def test_unreadable_file_exits_2_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and "Traceback" not in err


def test_garbage_input_is_an_error_not_a_crash(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", files["garbage"]]) == 1
    out = capsys.readouterr().out
    assert "[yaml]" in out and "Traceback" not in out


@pytest.mark.parametrize("text", ["", "null", "[]", "42", "d: 1", "d: {tasks: 5}", "d: {tasks: [1, 2]}",
                                  "d: {tasks: {t: 5}}", "d: {tasks: {t: {operator: 5}}}", "{1: 2}",
                                  "d: {tasks: {t: {operator: EmptyOperator, dependencies: [[a]]}}}",
                                  "d: {task_groups: 3, tasks: {t: {operator: EmptyOperator}}}",
                                  "d: {params: [1], default_args: 2, tasks: {t: {operator: EmptyOperator}}}"])
def test_odd_shapes_give_errors_not_exceptions(text: str) -> None:
    from updraft.definition import validate

    result = validate(text)
    assert not result.ok and result.errors


def test_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["validate", "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "Exit status" in text and "retries 0-3" in text
    assert all(f"{code} " in text for code in ("0", "1", "2")) and "Examples:" in text
