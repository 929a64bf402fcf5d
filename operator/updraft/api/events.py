"""A run's Kubernetes events, for the console's run page: what the operator said about the run
(a task's state changes, an attempt re-launched, a refused pod or Secret with the apiserver's
reason), newest first. Not part of the MWAA model: read under GetWorkflowRun's authorization, as
the run they describe.

`event_rows` is pure: it reduces core/v1 Events to rows; `run_events` reads them for a run."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from updraft.api.service import Service

MAX_EVENTS = 50  # the newest; a run's events expire with the apiserver's event TTL (1 h by default)


def event_rows(events: Sequence[Mapping[str, Any]], uid: str, limit: int = MAX_EVENTS) -> list[dict[str, Any]]:
    """The events of the object with `uid` (not of an older run of the same name), newest first:
    {At, Type, Reason, Message, Count}. At is the last time it happened, as the apiserver wrote it."""
    rows: list[dict[str, Any]] = []
    for ev in events:
        if (ev.get("involvedObject") or {}).get("uid") != uid:
            continue
        at = ev.get("lastTimestamp") or ev.get("eventTime") or ev.get("firstTimestamp") or \
            (ev.get("metadata") or {}).get("creationTimestamp") or ""
        rows.append({"At": str(at), "Type": str(ev.get("type") or "Normal"), "Reason": str(ev.get("reason") or ""),
                     "Message": str(ev.get("message") or ""), "Count": int(ev.get("count") or 1)})
    rows.sort(key=lambda r: str(r["At"]), reverse=True)  # RFC 3339 in UTC: text order is time order
    return rows[:limit]


async def run_events(service: Service, arn: str, run_id: str) -> dict[str, Any]:
    workflow = await service.workflow(arn)
    run = await service.run_of(workflow, run_id)
    meta = run["metadata"]
    listed = await service.kube.list("Event", service.ns, fields={"involvedObject.kind": "WorkflowRun",
                                                                  "involvedObject.name": meta["name"]})
    return {"Events": event_rows(listed, meta.get("uid", ""))}
