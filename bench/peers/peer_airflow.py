"""Apache Airflow 3.0.6 with the KubernetesExecutor beside Updraft: its own virtual environment
(hack/peers/airflow-venv.sh: its cncf-kubernetes provider pins conflict with the operator's
client), PostgreSQL 15 from Debian, `api-server`, `scheduler` and `dag-processor` as local
processes; worker pods from the runner image (see peer_manifests.airflow_pod_template).

The clock: a run starts at its DagRun's `queued_at` (written when `airflow dags trigger` inserts
it: the CLI's own start-up is not counted) and ends when this process first sees it final in the
database; its pods are seen by the same watch as the other systems' (label `run_id`).
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import signal
import subprocess
import threading
import time
import urllib.request
from typing import Any

import peer_manifests as manifests
from peer_cluster import cache_dir, kubeconfig, sh
from peer_shapes import Shape

ROOT = cache_dir() / "peers"
VENV = ROOT / "airflow-venv"
HOME = ROOT / "airflow-home"
DAGS = ROOT / "airflow-dags"
DB = "airflow"
JWT_SECRET = "updraft-peers-bench-only"  # noqa: S105 - a local bench's shared secret
PORT = 8080
FINAL = {"success": "success", "failed": "failed"}
# a documented minimal tuning (docs/performance.md); the defaults run sets none of these
TUNING = {"AIRFLOW__KUBERNETES_EXECUTOR__WORKER_PODS_CREATION_BATCH_SIZE": "16",
          "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "64",
          "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2"}


def node_ip() -> str:
    out = sh("ip", "-4", "route", "get", "1.1.1.1")
    words = out.split()
    return words[words.index("src") + 1]


def psql(query: str, db: str = DB) -> str:
    return sh("runuser", "-u", "postgres", "--", "psql", "-d", db, "-Atc", query).strip()


class Session:
    """One psql process kept open for the series' polling (a process per query would cost the
    2-core machine more CPU than the Airflow it measures). Every query returns exactly one row."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(["runuser", "-u", "postgres", "--", "psql", "-d", DB, "-Atq", "-v", "ON_ERROR_STOP=0"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     bufsize=1)
        self.lock = threading.Lock()

    def one(self, query: str) -> str:
        with self.lock:
            assert self.proc.stdin and self.proc.stdout
            self.proc.stdin.write(f"select coalesce(({query})::text, '');\n")
            self.proc.stdin.flush()
            return self.proc.stdout.readline().strip()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def ensure_postgres() -> None:
    sh("pg_ctlcluster", "15", "main", "start", check=False)
    for _ in range(30):
        if subprocess.run(["runuser", "-u", "postgres", "--", "pg_isready", "-q"]).returncode == 0:
            break
        time.sleep(1)
    if psql(f"select 1 from pg_roles where rolname='{DB}'", db="postgres") != "1":
        psql(f"create role {DB} login password '{DB}'", db="postgres")
    if psql(f"select 1 from pg_database where datname='{DB}'", db="postgres") != "1":
        psql(f"create database {DB} owner {DB}", db="postgres")


def environment(namespace: str, tuned: bool, kube: str | None = None) -> dict[str, str]:
    """Airflow's settings (kube: the kubeconfig; the local cluster's when not given)."""
    env = {**os.environ, "AIRFLOW_HOME": str(HOME), "SCARF_NO_ANALYTICS": "True", "DO_NOT_TRACK": "True",
           "AIRFLOW__CORE__EXECUTOR": "KubernetesExecutor",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{DB}:{DB}@127.0.0.1/{DB}",
           "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{node_ip()}:{PORT}/execution/",
           "AIRFLOW__API_AUTH__JWT_SECRET": JWT_SECRET, "AIRFLOW__API__PORT": str(PORT), "AIRFLOW__API__WORKERS": "1",
           "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
           "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
           "AIRFLOW__KUBERNETES_EXECUTOR__NAMESPACE": namespace,
           "AIRFLOW__KUBERNETES_EXECUTOR__IN_CLUSTER": "False",
           "AIRFLOW__KUBERNETES_EXECUTOR__CONFIG_FILE": kube if kube is not None else kubeconfig(),
           "AIRFLOW__KUBERNETES_EXECUTOR__POD_TEMPLATE_FILE": str(HOME / "pod-template.json"),
           "AIRFLOW__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS": "True"}
    if tuned:
        env.update(TUNING)
    return env


def write_files(shapes: list[Shape]) -> None:
    HOME.mkdir(parents=True, exist_ok=True)
    DAGS.mkdir(parents=True, exist_ok=True)
    DAGS.chmod(0o755)
    for old in DAGS.glob("peers_*.py"):
        old.unlink()
    for shape in shapes:
        path = DAGS / f"{manifests.dag_id(shape)}.py"
        path.write_text(manifests.airflow_dag(shape))
        path.chmod(0o644)
    template = manifests.airflow_pod_template(f"http://{node_ip()}:{PORT}/execution/", str(DAGS))
    (HOME / "pod-template.json").write_text(json.dumps(template, indent=1))


def prepare(shapes: list[Shape]) -> None:
    """What needs no cluster: the virtual environment's check, PostgreSQL and its schema, the DAG
    files and the pod template."""
    if not (VENV / "bin" / "airflow").exists():
        raise SystemExit(f"peers: no Airflow environment at {VENV}: run hack/peers/airflow-venv.sh")
    ensure_postgres()
    write_files(shapes)
    sh(str(VENV / "bin" / "airflow"), "db", "migrate", env=environment("default", tuned=False, kube=""))


class Processes:
    """api-server, dag-processor and scheduler, each in its own
    process group (ended by pid); logs under bench/out/logs."""

    def __init__(self, env: dict[str, str], logs: pathlib.Path, shapes: list[Shape]) -> None:
        self.env, self.logs, self.shapes = env, logs, shapes
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> "Processes":
        self.logs.mkdir(parents=True, exist_ok=True)
        for name in ("api-server", "dag-processor", "scheduler"):
            with (self.logs / f"airflow-{name}.log").open("ab") as out:
                self.procs[name] = subprocess.Popen([str(VENV / "bin" / "airflow"), name], env=self.env, stdout=out,
                                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                    start_new_session=True)
        try:
            self._wait_ready(240)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.time() + timeout_s
        want = {manifests.dag_id(s) for s in self.shapes}
        api_up = False
        while time.time() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise SystemExit(f"peers: airflow {name} exited ({proc.returncode}): see {self.logs}")
            if not api_up:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v2/version", timeout=2):  # noqa: S310
                        api_up = True
                except OSError as e:
                    api_up = getattr(e, "code", 0) in (401, 403)
            ids = set(psql("select dag_id from dag where not is_paused").split()) if api_up else set()
            if api_up and want <= ids:
                return
            time.sleep(1)
        raise SystemExit(f"peers: Airflow not ready in {timeout_s:.0f} s (api-server up: {api_up}): see {self.logs}")

    def pids(self) -> list[int]:
        """The processes and their children (the scheduler's job watcher, the api-server's workers)."""
        out = []
        for proc in self.procs.values():
            out += [int(p) for p in sh("pgrep", "-g", str(proc.pid), check=False).split()]
        return out

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def postgres_pids() -> list[int]:
    return [int(p) for p in sh("pgrep", "-u", "postgres", check=False).split()]


class Airflow:
    run_label = "run_id"

    def __init__(self, custom: Any, namespace: str, name: str, env: dict[str, str]) -> None:
        self.custom, self.namespace, self.name, self.env = custom, namespace, name, env
        self.session: Session | None = None

    def db(self) -> Session:
        if self.session is None:
            self.session = Session()
        return self.session

    async def prepare(self, shape: Shape) -> None:
        """Nothing: the DAGs were parsed before the series started."""

    async def trigger(self, shape: Shape, run: str) -> float:
        dag = manifests.dag_id(shape)
        await asyncio.to_thread(sh, str(VENV / "bin" / "airflow"), "dags", "trigger", dag, "-r", run, env=self.env)
        return float(self.db().one(f"select extract(epoch from queued_at) from dag_run where dag_id='{dag}' and run_id='{run}'"))

    async def state(self, run: str) -> str:
        return FINAL.get(await asyncio.to_thread(self.db().one, f"select state from dag_run where run_id='{run}'"), "")

    async def forget(self, run: str) -> None:
        """Worker pods are deleted by the executor (delete_worker_pods); runs stay in the database."""

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
