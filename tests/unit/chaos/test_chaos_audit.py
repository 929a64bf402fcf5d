"""The audit log reader: what counts as a pod really created, and which files hold the events."""

import json
from pathlib import Path

from audit import Audit, audit_files, parse_line


def event(verb: str, resource: str, name: str, code: int, uid: str = "", stage: str = "ResponseComplete",
          at: str = "2026-12-03T09:00:00.000000Z", namespace: str = "ns") -> str:
    e: dict = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "stage": stage,
               "verb": verb, "requestReceivedTimestamp": at, "stageTimestamp": at,
               "user": {"username": "system:serviceaccount:ns:op"},
               "objectRef": {"resource": resource, "namespace": namespace, "name": name, "apiVersion": "v1"},
               "responseStatus": {"metadata": {}, "code": code}}
    if uid:
        e["level"] = "RequestResponse"
        e["responseObject"] = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "uid": uid}}
    return json.dumps(e)


def test_a_pod_create_is_read_with_the_uid_of_its_answer() -> None:
    r = parse_line(event("create", "pods", "p-1", 201, uid="u-1"))
    assert r is not None and (r.verb, r.resource, r.name, r.uid, r.code, r.applied) == ("create", "pods", "p-1",
                                                                                        "u-1", 201, True)


def test_the_received_stage_and_broken_lines_are_no_events() -> None:
    assert parse_line(event("create", "pods", "p", 201, stage="RequestReceived")) is None
    assert parse_line("{not json") is None
    assert parse_line(json.dumps({"stage": "ResponseComplete"})) is None


def test_a_name_created_twice_keeps_both_uids_and_refused_creates_do_not_count(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_text("\n".join([
        event("create", "pods", "p-1", 201, uid="u-1", at="2026-12-03T09:00:01.000000Z"),
        event("create", "pods", "p-1", 409, at="2026-12-03T09:00:02.000000Z"),
        event("delete", "pods", "p-1", 200, at="2026-12-03T09:00:03.000000Z"),
        event("create", "pods", "p-1", 201, uid="u-2", at="2026-12-03T09:00:04.000000Z"),
        event("create", "pods", "p-2", 403, at="2026-12-03T09:00:05.000000Z"),
        event("create", "pods", "other", 201, uid="u-3", namespace="elsewhere"),
        event("create", "secrets", "p-1-token", 201),
    ]) + "\n")
    audit = Audit.read(audit_files(log), "ns")
    assert audit.pod_creations() == {"p-1": ["u-1", "u-2"]}
    assert audit.secret_creations() == {"p-1-token"}


def test_rotated_files_are_read_oldest_first_then_the_live_one(tmp_path: Path) -> None:
    for name in ("audit-2026-12-03T09-10-00.000.log", "audit.log", "audit-2026-12-03T09-00-00.000.log", "other.log"):
        (tmp_path / name).write_text("")
    assert [p.name for p in audit_files(tmp_path / "audit.log")] == [
        "audit-2026-12-03T09-00-00.000.log", "audit-2026-12-03T09-10-00.000.log", "audit.log"]


def test_only_what_follows_this_runs_marker_counts(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_text("\n".join([
        event("create", "secrets", "marker", 201, at="2026-12-03T08:00:00.000000Z"),
        event("create", "pods", "p-1", 201, uid="old", at="2026-12-03T08:00:01.000000Z"),  # an earlier run's
        event("create", "secrets", "marker", 201, at="2026-12-03T09:00:00.000000Z"),
        event("create", "pods", "p-1", 201, uid="new", at="2026-12-03T09:00:01.000000Z"),
    ]) + "\n")
    audit = Audit.read(audit_files(log), "ns")
    this_run = audit.since_marker("marker")
    assert this_run is not None and this_run.pod_creations() == {"p-1": ["new"]}
    assert audit.since_marker("another-marker") is None
