"""Operator settings: read once at start-up from the environment (the chart sets them), then passed
down as a frozen value. Nothing else in the operator reads os.environ."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from updraft.isolation import APISERVER_PORTS, check_default_egress, forbidden
from updraft.isolation.forbidden import Forbidden
from updraft.podspec import metadata, placement

from updraft.definition.limits import Limits
from updraft.model.states import LogBackend
from updraft.quota.limits import Quotas

class ConfigError(ValueError):
    """A setting has a value the operator cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    namespace: str | None = None  # None: watch every namespace
    region: str = "us-east-1"
    account_id: str = "123456789012"
    runner_image: str = "updraft.local/runner:dev"
    runner_images: Mapping[str, str] = field(default_factory=dict)  # engineVersion -> image
    runner_image_pull_policy: str = "IfNotPresent"
    runner_env: Mapping[str, str] = field(default_factory=dict)  # e.g. AWS_ENDPOINT_URL
    runner_resources: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}}
    )
    task_api_url: str = ""
    task_api_port: int = 8081
    task_api_key: str = ""  # HMAC key of task tokens; set it (the chart does) so restarts keep tokens valid
    # TLS of the task API: its certificate and key, and the CA task pods verify it with (mounted
    # into them). An http:// task_api_url needs task_api_plain_http, said in so many words.
    task_api_tls_cert: str = ""
    task_api_tls_key: str = ""
    task_api_ca_file: str = ""
    task_api_plain_http: bool = False
    # The Kubernetes API server's addresses and ports: cut out of every task pod's egress
    # (with the instance metadata service, always; isolation/forbidden.py)
    apiserver_cidrs: tuple[str, ...] = ()
    apiserver_ports: tuple[int, ...] = APISERVER_PORTS
    operator_pod_labels: Mapping[str, str] = field(default_factory=lambda: {"app.kubernetes.io/name": "updraft-operator"})
    operator_namespace: str = "updraft-system"
    max_workflows: int = 100
    max_versions: int = 50
    max_concurrent_runs: int = 100
    max_active_runs_limit: int = 20
    pod_cleanup_delay_s: int = 300
    # Task logs (the chart's logs.*): cloudwatch (each task pod ships its log under the workflow
    # role; the operator makes the default groups) or none (logs stay on the pods)
    logs_backend: str = "none"
    logs_retention_days: int = 30  # of the default groups the operator creates (0: never expire)
    failed_pod_retention_s: int = 86400  # logs.backend none: a failed run's pods are kept this long
    run_history_limit: int = 100  # finished runs kept per workflow (a Workflow's spec.runHistoryLimit wins)
    run_max_age_days: int = 30  # finished runs older than this are deleted
    schedule_starting_deadline_s: int = 300
    metrics_port: int = 8080
    default_egress: tuple[Mapping[str, object], ...] = ()
    # Leader election (replicas > 1): one operator reconciles, holding this Lease in operator_namespace.
    leader_election: bool = False
    leader_election_id: str = "updraft-operator"
    lease_duration_s: int = 15
    lease_renew_period_s: int = 5
    lease_renew_deadline_s: int = 10
    identity: str = ""  # this replica's name in the Lease (the pod name)
    kube_timeout_s: int = 30  # the deadline of every Kubernetes call the operator makes (a timeout is transient)
    # Where task pods run (chart runner.nodeSelector/tolerations/affinity), Kubernetes pod-spec form.
    runner_node_selector: Mapping[str, str] = field(default_factory=dict)
    runner_tolerations: tuple[Mapping[str, Any], ...] = ()
    runner_affinity: Mapping[str, Any] = field(default_factory=dict)
    # Extra labels and annotations of task pods (chart runner.podLabels/podAnnotations), e.g. for a log agent.
    runner_pod_labels: Mapping[str, str] = field(default_factory=dict)
    runner_pod_annotations: Mapping[str, str] = field(default_factory=dict)
    # Replaces the runner image's entrypoint. For tests with a stand-in image, not for production.
    runner_command: tuple[str, ...] = ()

    def quotas(self) -> Quotas:
        return Quotas(workflows_per_cluster=self.max_workflows, versions_per_workflow=self.max_versions,
                      concurrent_runs_cluster=self.max_concurrent_runs)

    def limits(self) -> Limits:
        """What new definitions are validated against (stored versions never are again)."""
        return Limits(max_active_runs_limit=self.max_active_runs_limit,
                      default_max_active_runs=min(Limits.default_max_active_runs, self.max_active_runs_limit))

    def forbidden_egress(self) -> tuple[Forbidden, ...]:
        """What no task pod's egress reaches (the metadata service, the API server)."""
        return forbidden(self.apiserver_cidrs, self.apiserver_ports)

    def image_for(self, engine_version: int | None) -> str:
        if engine_version is not None and str(engine_version) in self.runner_images:
            return self.runner_images[str(engine_version)]
        return self.runner_image


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected an integer") from None
    if value < 0:
        raise ConfigError(f"{name}={raw!r}: must not be negative")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ConfigError(f"{name}={raw!r}: expected true or false")


def _json(env: Mapping[str, str], name: str, default: object) -> object:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{name}: not valid JSON ({e.msg} at position {e.pos})") from None


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from UPDRAFT_* variables; unknown values keep the defaults."""
    env = os.environ if env is None else env
    d = Settings()
    runner_env = _json(env, "UPDRAFT_RUNNER_ENV", {})
    images = _json(env, "UPDRAFT_RUNNER_IMAGES", {})
    resources = _json(env, "UPDRAFT_RUNNER_RESOURCES", d.runner_resources)
    labels = _json(env, "UPDRAFT_OPERATOR_POD_LABELS", d.operator_pod_labels)
    for name, value in (("UPDRAFT_RUNNER_ENV", runner_env), ("UPDRAFT_RUNNER_IMAGES", images),
                        ("UPDRAFT_RUNNER_RESOURCES", resources), ("UPDRAFT_OPERATOR_POD_LABELS", labels)):
        if not isinstance(value, dict):
            raise ConfigError(f"{name}: expected a JSON object")
    egress = _json(env, "UPDRAFT_DEFAULT_EGRESS", [])
    if not isinstance(egress, list):
        raise ConfigError("UPDRAFT_DEFAULT_EGRESS: expected a JSON list")
    command = _json(env, "UPDRAFT_RUNNER_COMMAND", [])
    if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
        raise ConfigError("UPDRAFT_RUNNER_COMMAND: expected a JSON list of strings")
    try:
        node_selector = placement.node_selector(_json(env, "UPDRAFT_RUNNER_NODE_SELECTOR", {}),
                                                "UPDRAFT_RUNNER_NODE_SELECTOR")
        tolerations = placement.tolerations(_json(env, "UPDRAFT_RUNNER_TOLERATIONS", []), "UPDRAFT_RUNNER_TOLERATIONS")
        affinity = placement.affinity(_json(env, "UPDRAFT_RUNNER_AFFINITY", {}), "UPDRAFT_RUNNER_AFFINITY")
        pod_labels = metadata.pod_labels(_json(env, "UPDRAFT_RUNNER_POD_LABELS", {}), "UPDRAFT_RUNNER_POD_LABELS")
        pod_annotations = metadata.pod_annotations(_json(env, "UPDRAFT_RUNNER_POD_ANNOTATIONS", {}),
                                                   "UPDRAFT_RUNNER_POD_ANNOTATIONS")
    except placement.PlacementError as e:
        raise ConfigError(str(e)) from None
    cidrs = _json(env, "UPDRAFT_APISERVER_CIDRS", [])
    if not isinstance(cidrs, list) or not all(isinstance(c, str) for c in cidrs):
        raise ConfigError("UPDRAFT_APISERVER_CIDRS: expected a JSON list of CIDRs")
    ports = _json(env, "UPDRAFT_APISERVER_PORTS", list(APISERVER_PORTS))
    if (not isinstance(ports, list) or not ports
            or not all(isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 for p in ports)):
        raise ConfigError("UPDRAFT_APISERVER_PORTS: expected a non-empty JSON list of TCP ports")
    try:
        blocks = forbidden(cidrs, ports)
        check_default_egress(egress, "UPDRAFT_DEFAULT_EGRESS", blocks)
    except ValueError as e:
        raise ConfigError(f"UPDRAFT_APISERVER_CIDRS / UPDRAFT_DEFAULT_EGRESS: {e}") from None
    backend = env.get("UPDRAFT_LOGS_BACKEND") or d.logs_backend
    if backend not in LogBackend.ALL:
        raise ConfigError(f"UPDRAFT_LOGS_BACKEND={backend!r}: expected one of {', '.join(LogBackend.ALL)}")
    settings = Settings(
        task_api_tls_cert=env.get("UPDRAFT_TASK_API_TLS_CERT", ""),
        task_api_tls_key=env.get("UPDRAFT_TASK_API_TLS_KEY", ""),
        task_api_ca_file=env.get("UPDRAFT_TASK_API_CA_FILE", ""),
        task_api_plain_http=_bool(env, "UPDRAFT_TASK_API_PLAIN_HTTP", False),
        apiserver_cidrs=tuple(cidrs), apiserver_ports=tuple(ports),
        logs_backend=backend,
        logs_retention_days=_int(env, "UPDRAFT_LOGS_RETENTION_DAYS", d.logs_retention_days),
        failed_pod_retention_s=_int(env, "UPDRAFT_FAILED_POD_RETENTION_SECONDS", d.failed_pod_retention_s),
        runner_command=tuple(command),
        runner_node_selector=node_selector, runner_tolerations=tolerations, runner_affinity=affinity,
        runner_pod_labels=pod_labels, runner_pod_annotations=pod_annotations,
        namespace=env.get("UPDRAFT_WATCH_NAMESPACE") or None,
        region=env.get("UPDRAFT_REGION", d.region),
        account_id=env.get("UPDRAFT_ACCOUNT_ID", d.account_id),
        runner_image=env.get("UPDRAFT_RUNNER_IMAGE", d.runner_image),
        runner_images={str(k): str(v) for k, v in images.items()},  # type: ignore[attr-defined]
        runner_image_pull_policy=env.get("UPDRAFT_RUNNER_IMAGE_PULL_POLICY", d.runner_image_pull_policy),
        runner_env={str(k): str(v) for k, v in runner_env.items()},  # type: ignore[attr-defined]
        runner_resources=resources,  # type: ignore[arg-type]
        task_api_url=env.get("UPDRAFT_TASK_API_URL", d.task_api_url),
        task_api_port=_int(env, "UPDRAFT_TASK_API_PORT", d.task_api_port),
        task_api_key=env.get("UPDRAFT_TASK_API_KEY", ""),
        operator_pod_labels=labels,  # type: ignore[arg-type]
        operator_namespace=env.get("UPDRAFT_OPERATOR_NAMESPACE", d.operator_namespace),
        max_workflows=_int(env, "UPDRAFT_MAX_WORKFLOWS", d.max_workflows),
        max_versions=_int(env, "UPDRAFT_MAX_VERSIONS", d.max_versions),
        max_concurrent_runs=_int(env, "UPDRAFT_MAX_CONCURRENT_RUNS", d.max_concurrent_runs),
        max_active_runs_limit=_int(env, "UPDRAFT_MAX_ACTIVE_RUNS_LIMIT", d.max_active_runs_limit),
        pod_cleanup_delay_s=_int(env, "UPDRAFT_POD_CLEANUP_DELAY_SECONDS", d.pod_cleanup_delay_s),
        run_history_limit=_int(env, "UPDRAFT_RUN_HISTORY_LIMIT", d.run_history_limit),
        run_max_age_days=_int(env, "UPDRAFT_RUN_MAX_AGE_DAYS", d.run_max_age_days),
        schedule_starting_deadline_s=_int(env, "UPDRAFT_SCHEDULE_STARTING_DEADLINE_SECONDS", d.schedule_starting_deadline_s),
        metrics_port=_int(env, "UPDRAFT_METRICS_PORT", d.metrics_port),
        default_egress=tuple(egress),
        leader_election=_bool(env, "UPDRAFT_LEADER_ELECTION", d.leader_election),
        leader_election_id=env.get("UPDRAFT_LEADER_ELECTION_ID") or d.leader_election_id,
        lease_duration_s=_int(env, "UPDRAFT_LEASE_DURATION_SECONDS", d.lease_duration_s),
        lease_renew_period_s=_int(env, "UPDRAFT_LEASE_RENEW_PERIOD_SECONDS", d.lease_renew_period_s),
        lease_renew_deadline_s=_int(env, "UPDRAFT_LEASE_RENEW_DEADLINE_SECONDS", d.lease_renew_deadline_s),
        identity=env.get("UPDRAFT_POD_NAME") or env.get("HOSTNAME") or d.identity,
        kube_timeout_s=_int(env, "UPDRAFT_KUBE_TIMEOUT_SECONDS", d.kube_timeout_s) or d.kube_timeout_s,
    )
    _check_task_api_tls(settings)
    if settings.leader_election and not (
            0 < settings.lease_renew_period_s < settings.lease_renew_deadline_s < settings.lease_duration_s):
        raise ConfigError("leader election needs UPDRAFT_LEASE_RENEW_PERIOD_SECONDS < "
                          "UPDRAFT_LEASE_RENEW_DEADLINE_SECONDS < UPDRAFT_LEASE_DURATION_SECONDS (got "
                          f"{settings.lease_renew_period_s} < {settings.lease_renew_deadline_s} < "
                          f"{settings.lease_duration_s})")
    return settings


def _check_task_api_tls(s: Settings) -> None:
    """HTTPS needs a certificate, its key and the CA task pods verify it with; plain HTTP must
    be chosen in so many words (local development), never be what a missing setting leaves."""
    if (s.task_api_tls_cert == "") != (s.task_api_tls_key == ""):
        raise ConfigError("UPDRAFT_TASK_API_TLS_CERT and UPDRAFT_TASK_API_TLS_KEY go together: set both or neither")
    if not s.task_api_url:
        return
    if s.task_api_url.startswith("https://"):
        if not s.task_api_tls_cert or not s.task_api_ca_file:
            raise ConfigError("UPDRAFT_TASK_API_URL is https://: set UPDRAFT_TASK_API_TLS_CERT, "
                              "UPDRAFT_TASK_API_TLS_KEY and UPDRAFT_TASK_API_CA_FILE (the CA task pods verify it with)")
    elif s.task_api_url.startswith("http://"):
        if not s.task_api_plain_http:
            raise ConfigError("UPDRAFT_TASK_API_URL is plain http://: serve TLS (an https:// URL with "
                              "UPDRAFT_TASK_API_TLS_CERT/KEY/CA_FILE), or set UPDRAFT_TASK_API_PLAIN_HTTP=true "
                              "to choose plain HTTP (local development only)")
        if s.task_api_tls_cert:
            raise ConfigError("UPDRAFT_TASK_API_URL is http:// but a TLS certificate is set: use https://")
    else:
        raise ConfigError(f"UPDRAFT_TASK_API_URL={s.task_api_url!r}: expected an https:// (or http://) URL")
