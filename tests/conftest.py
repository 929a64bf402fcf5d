"""Test tiers and the fixtures that connect tests to real parts.

- unit tests need nothing;
- `airflow` tests need the [airflow] extra (real Airflow + dag-factory);
- `cluster` / `e2e` tests need the local cluster: UPDRAFT_KUBECONFIG names its kubeconfig
  (`make test` sets it). Without it they are skipped, unless UPDRAFT_REQUIRE_CLUSTER=1 (CI), where
  a missing cluster is an error: the cluster is part of CI, not an optional extra.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

# The checkout under test is the one this file is in: a venv shared between git worktrees has
# one of them installed (editable), and its code must not stand in for this one's.
_OPERATOR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "operator")
if _OPERATOR not in sys.path:
    sys.path.insert(0, _OPERATOR)

# Airflow reads its configuration when first imported: give every test process a private, empty
# AIRFLOW_HOME and no telemetry before any test can import it.
if "AIRFLOW_HOME" not in os.environ:
    import atexit
    import shutil
    import tempfile

    _airflow_tmp = tempfile.mkdtemp(prefix="updraft-airflow-")
    atexit.register(shutil.rmtree, _airflow_tmp, ignore_errors=True)
    os.environ["AIRFLOW_HOME"] = os.path.join(_airflow_tmp, "home")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY", "False")
os.environ.setdefault("SCARF_NO_ANALYTICS", "True")
os.environ.setdefault("DO_NOT_TRACK", "True")


def _required(name: str) -> bool:
    return os.environ.get(name, "") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    have_airflow = importlib.util.find_spec("airflow") is not None and importlib.util.find_spec("dagfactory") is not None
    have_cluster = bool(os.environ.get("UPDRAFT_KUBECONFIG"))
    for item in items:
        if "airflow" in item.keywords and not have_airflow:
            if _required("UPDRAFT_REQUIRE_AIRFLOW"):
                raise pytest.UsageError("UPDRAFT_REQUIRE_AIRFLOW=1 but Airflow/dag-factory are not installed")
            item.add_marker(pytest.mark.skip(reason="needs the [airflow] extra"))
        if ("cluster" in item.keywords or "e2e" in item.keywords) and not have_cluster:
            if _required("UPDRAFT_REQUIRE_CLUSTER"):
                raise pytest.UsageError("UPDRAFT_REQUIRE_CLUSTER=1 but UPDRAFT_KUBECONFIG is not set")
            item.add_marker(pytest.mark.skip(reason="needs the local cluster (make cluster-up; UPDRAFT_KUBECONFIG)"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def moto_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real S3/STS API (a moto server in this process) at the URL yielded; boto3 in this process
    and in the processes it starts reaches it through AWS_ENDPOINT_URL with test credentials."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    for k, v in {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                 "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    yield url
    server.stop()


@pytest.fixture(scope="session")
def kubeconfig() -> str:
    path = os.environ.get("UPDRAFT_KUBECONFIG", "")
    if not path or not os.path.exists(path):
        pytest.fail(f"UPDRAFT_KUBECONFIG={path!r} does not name a kubeconfig file")
    return path


@pytest.fixture
async def api(kubeconfig: str) -> AsyncIterator[object]:
    """An ApiClient (kubernetes_asyncio) for the local cluster, closed after the test."""
    from kubernetes_asyncio import client, config

    cfg = client.Configuration()
    await config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)
    async with client.ApiClient(cfg) as c:
        yield c


@pytest.fixture
async def namespace(api: object) -> AsyncIterator[str]:
    """A fresh namespace per test, deleted afterwards."""
    from kubernetes_asyncio import client

    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(api)
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    await core.delete_namespace(name, grace_period_seconds=0)
