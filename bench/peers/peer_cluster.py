"""Running one shape N times on one system, observed from outside on one clock.

A `System` knows how to prepare a shape, trigger a run, read its state and clean up; this module
watches the namespace's pods (first seen = created, ms resolution) and polls the run's state.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import subprocess
import time
from typing import Any, Protocol

from peer_figures import RunObservation
from peer_shapes import Shape

TOP = pathlib.Path(__file__).resolve().parents[2]
CLUSTER = TOP / "hack" / "cluster"


def versions(path: pathlib.Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def cache_dir() -> pathlib.Path:
    import os

    return pathlib.Path(os.environ.get("UPDRAFT_CACHE", pathlib.Path.home() / ".cache/updraft"))


KUBECTL = cache_dir() / "bin" / f"k8s-{versions(CLUSTER / 'versions.env')['K8S_VERSION']}" / "kubectl"


def sh(*cmd: str, check: bool = True, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, input=stdin, env=env)
    if check and proc.returncode != 0:
        raise SystemExit(f"peers: {' '.join(cmd[:5])} ... failed ({proc.returncode}):\n{proc.stderr.strip()}")
    return proc.stdout


def kubeconfig() -> str:
    return sh("bash", str(CLUSTER / "kubeconfig.sh")).strip().splitlines()[-1]


def kubectl(*args: str, check: bool = True, stdin: str | None = None) -> str:
    return sh(str(KUBECTL), "--kubeconfig", kubeconfig(), *args, check=check, stdin=stdin)


def kubectl_apply(obj: dict[str, Any], namespace: str | None = None) -> None:
    ns = ["-n", namespace] if namespace else []
    kubectl(*ns, "apply", "-f", "-", stdin=json.dumps(obj))


class System(Protocol):
    name: str
    namespace: str
    run_label: str  # the pod label whose value is the run's name

    async def prepare(self, shape: Shape) -> None: ...
    # returns when the run was created, when the system records it (else the call's start counts)
    async def trigger(self, shape: Shape, run: str) -> float | None: ...
    async def state(self, run: str) -> str: ...  # "", "success" or "failed"
    async def forget(self, run: str) -> None: ...


class PodWatch:
    """When this process first saw each pod of the namespace (Unix seconds), by run label."""

    def __init__(self, core: Any, namespace: str, run_label: str) -> None:
        self.core, self.namespace, self.run_label = core, namespace, run_label
        self.first_seen: dict[str, tuple[str, float]] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        self._stop.set()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass

    def created(self, run: str) -> list[float]:
        return sorted(t for (r, t) in self.first_seen.values() if r == run)

    async def _loop(self) -> None:
        from kubernetes_asyncio import watch

        while not self._stop.is_set():
            w = watch.Watch()
            try:
                async for event in w.stream(self.core.list_namespaced_pod, self.namespace, timeout_seconds=60):
                    pod = event["object"]
                    run = (pod.metadata.labels or {}).get(self.run_label, "")
                    self.first_seen.setdefault(pod.metadata.name, (run, time.time()))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a dropped watch is restarted
                await asyncio.sleep(0.2)
            finally:
                w.stop()


POLL_S = 0.1  # how often a run's state is read, the same for every system


async def observe(system: System, watch: PodWatch, shape: Shape, run: str, timeout_s: float) -> RunObservation:
    # the clock starts when the create call is sent (the same call on every system: one object)
    obs = RunObservation(system.name, shape.name, triggered=time.time())
    created = await system.trigger(shape, run)
    if created is not None:
        obs.triggered = created
    while time.time() - obs.triggered < timeout_s:
        state = await system.state(run)
        if state:
            obs.finished, obs.state = time.time(), state
            break
        await asyncio.sleep(POLL_S)
    else:
        obs.state = "timeout"
    await asyncio.sleep(0.5)  # the last pod events reach the watch
    obs.pods_created = watch.created(run)
    return obs
