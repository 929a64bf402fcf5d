"""The Helm chart, rendered by the real Helm (built by the cluster harness): what each values
scenario produces, and what it refuses. Skipped without the Helm binary unless
UPDRAFT_REQUIRE_CLUSTER=1 (CI builds it)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pytest
import yaml

TOP = pathlib.Path(__file__).resolve().parents[3]
CHART = TOP / "charts" / "updraft"


def _helm() -> str:
    versions = dict(line.split("=", 1) for line in (TOP / "hack/cluster/versions.env").read_text().splitlines()
                    if "=" in line and not line.startswith("#"))
    cache = pathlib.Path(os.environ.get("UPDRAFT_CACHE", pathlib.Path.home() / ".cache/updraft"))
    path = cache / "bin" / f"k8s-{versions['K8S_VERSION'].strip()}" / "helm"
    if not path.exists():
        if os.environ.get("UPDRAFT_REQUIRE_CLUSTER") == "1":
            pytest.fail(f"no Helm at {path}: run hack/cluster/build-binaries.sh")
        pytest.skip("Helm is not built (hack/cluster/build-binaries.sh)")
    return str(path)


def render(*args: str, ok: bool = True) -> list[dict] | str:
    proc = subprocess.run([_helm(), "template", "updraft", str(CHART), "-n", "updraft-system",
                           "--kube-version", "1.33.0", *args], capture_output=True, text=True)
    if not ok:
        assert proc.returncode != 0, "helm template should have refused these values"
        return proc.stderr
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def find(docs: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def env_of(deployment: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_defaults_render_operator_api_crds_and_no_prometheus_objects():
    docs = render()
    assert {d["metadata"]["name"] for d in find(docs, "CustomResourceDefinition")} == {
        "workflows.updraft.dev", "workflowruns.updraft.dev", "workflowversions.updraft.dev"}
    assert find(docs, "Deployment", "updraft-operator") and find(docs, "Deployment", "updraft-api")
    assert not find(docs, "ServiceMonitor") and not find(docs, "PrometheusRule")
    assert not find(docs, "PodDisruptionBudget")  # one replica each


def test_crds_are_the_repository_crds_and_are_kept_on_uninstall():
    docs = render()
    for path in sorted((TOP / "crds").glob("*.yaml")):
        source = yaml.safe_load(path.read_text())
        rendered = find(docs, "CustomResourceDefinition", source["metadata"]["name"])[0]
        assert rendered["spec"] == source["spec"]
        assert rendered["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert not find(render("--set", "crds.install=false"), "CustomResourceDefinition")


def test_operator_settings_reach_the_environment():
    docs = render("--set", "quotas.maxConcurrentRuns=7", "--set", "runner.env.AWS_ENDPOINT_URL=http://moto:5000",
                  "--set", "podCleanupDelaySeconds=42", "--set", "runner.image.tag=9.9")
    env = env_of(find(docs, "Deployment", "updraft-operator")[0])
    assert env["UPDRAFT_MAX_CONCURRENT_RUNS"] == "7"
    assert json.loads(env["UPDRAFT_RUNNER_ENV"]) == {"AWS_ENDPOINT_URL": "http://moto:5000"}
    assert env["UPDRAFT_POD_CLEANUP_DELAY_SECONDS"] == "42"
    assert env["UPDRAFT_RUNNER_IMAGE"] == "updraft/runner:9.9"
    assert env["UPDRAFT_TASK_API_URL"] == "https://updraft-operator.updraft-system.svc:8081"
    # the task pods' NetworkPolicy admits exactly the operator pods' labels
    operator = find(docs, "Deployment", "updraft-operator")[0]
    assert json.loads(env["UPDRAFT_OPERATOR_POD_LABELS"]) == operator["spec"]["selector"]["matchLabels"]


def test_pods_are_restricted():
    for dep in find(render(), "Deployment"):
        pod = dep["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        c = pod["containers"][0]["securityContext"]
        assert c["allowPrivilegeEscalation"] is False and c["readOnlyRootFilesystem"] is True
        assert c["capabilities"]["drop"] == ["ALL"]


def test_namespaced_mode_grants_nothing_cluster_wide_but_crd_discovery():
    docs = render("-f", str(CHART / "ci/namespaced-values.yaml"))
    cluster_rules = [r for d in find(docs, "ClusterRole") for r in d["rules"]]
    assert all(r["apiGroups"] == ["apiextensions.k8s.io"] for r in cluster_rules)
    # cluster-scoped names carry the release namespace: team installs never collide
    assert {d["metadata"]["name"] for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding")} == {
        "updraft-updraft-system-operator"}
    assert {d["metadata"]["name"] for d in find(render(), "ClusterRole")} == {"updraft-operator", "updraft-api"}
    role = find(docs, "Role", "updraft-operator")[0]
    assert role["metadata"]["namespace"] == "data-team"
    assert any("pods" in r["resources"] for r in role["rules"])
    assert env_of(find(docs, "Deployment", "updraft-operator")[0])["UPDRAFT_WATCH_NAMESPACE"] == "data-team"
    api = find(docs, "Deployment", "updraft-api")[0]["spec"]["template"]["spec"]["containers"][0]
    assert "--namespace=data-team" in api["args"]


def test_given_access_keys_become_the_credentials_secret():
    docs = render("-f", str(CHART / "ci/namespaced-values.yaml"))
    secret = find(docs, "Secret", "updraft-api-credentials")[0]
    import base64
    keys = json.loads(base64.b64decode(secret["data"]["credentials.json"]))
    assert keys["AKIAEXAMPLEDATATEAM1"]["principal"] == "arn:aws:iam::123456789012:user/data-team"


def test_generated_admin_key_has_the_aws_shape():
    import base64
    secret = find(render(), "Secret", "updraft-api-credentials")[0]
    (key_id, entry), = json.loads(base64.b64decode(secret["data"]["credentials.json"])).items()
    assert key_id.startswith("AKIA") and len(key_id) == 20 and key_id.isupper()
    assert len(entry["secretAccessKey"]) == 40
    assert entry["principal"] == "arn:aws:iam::123456789012:user/updraft-admin"
    assert entry["fullAccess"] is True  # said in so many words: a missing "policies" grants nothing (issue 21)


def test_ha_renders_disruption_budgets_and_uses_the_existing_secret():
    docs = render("-f", str(CHART / "ci/ha-values.yaml"))
    assert {d["metadata"]["name"] for d in find(docs, "PodDisruptionBudget")} == {"updraft-operator", "updraft-api"}
    assert not find(docs, "Secret", "updraft-api-credentials")
    api = find(docs, "Deployment", "updraft-api")[0]["spec"]["template"]["spec"]
    assert {"name": "credentials", "secret": {"secretName": "my-api-keys"}} in api["volumes"]
    assert "--credentials=/etc/updraft/credentials/keys.json" in api["containers"][0]["args"]
    assert env_of(find(docs, "Deployment", "updraft-operator")[0])["UPDRAFT_LEADER_ELECTION"] == "true"


def test_prometheus_objects_only_with_the_prometheus_operator_api():
    assert not find(render(), "ServiceMonitor") and not find(render(), "PrometheusRule")
    # each kind on its own: a cluster may serve ServiceMonitors without PrometheusRules
    only_monitors = render("--api-versions", "monitoring.coreos.com/v1/ServiceMonitor")
    assert len(find(only_monitors, "ServiceMonitor")) == 2 and not find(only_monitors, "PrometheusRule")
    docs = render("--api-versions", "monitoring.coreos.com/v1/ServiceMonitor",
                  "--api-versions", "monitoring.coreos.com/v1/PrometheusRule")
    monitors = find(docs, "ServiceMonitor")
    assert {m["spec"]["endpoints"][0]["relabelings"][0]["replacement"] for m in monitors} == {
        "updraft-operator", "updraft-api"}
    rule = find(docs, "PrometheusRule")[0]
    assert rule["spec"]["groups"], "the alert groups come from files/alerts.yaml"
    dashboard = find(docs, "ConfigMap", "updraft-dashboard")[0]
    assert json.loads(dashboard["data"]["updraft.json"])["uid"] == "updraft-overview"


def test_an_existing_task_api_key_secret_replaces_the_generated_one():
    docs = render("--set", "operator.taskApiKeySecret=my-task-key")
    assert not find(docs, "Secret", "updraft-task-api")
    op = find(docs, "Deployment", "updraft-operator")[0]["spec"]["template"]["spec"]["containers"][0]
    key = next(e for e in op["env"] if e["name"] == "UPDRAFT_TASK_API_KEY")
    assert key["valueFrom"]["secretKeyRef"] == {"name": "my-task-key", "key": "key"}
    annotations = [find(render("--set", "operator.taskApiKeySecret=my-task-key"), "Deployment", "updraft-operator")[0]
                   ["spec"]["template"]["metadata"]["annotations"]["checksum/task-api-key"] for _ in range(2)]
    assert annotations[0] == annotations[1], "a fixed Secret gives a stable pod template"
    assert find(render(), "Secret", "updraft-task-api")


def test_api_metrics_port_zero_leaves_the_port_out():
    docs = render("--set", "api.metricsPort=0", "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor")
    api = find(docs, "Deployment", "updraft-api")[0]["spec"]["template"]["spec"]["containers"][0]
    assert [p["name"] for p in api["ports"]] == ["https"] and "--metrics-port=0" in api["args"]
    assert [p["name"] for p in find(docs, "Service", "updraft-api")[0]["spec"]["ports"]] == ["https"]
    assert [m["metadata"]["name"] for m in find(docs, "ServiceMonitor")] == ["updraft-operator"]


@pytest.mark.parametrize("args, message", [
    (["--set", "operator.replicas=2", "--set", "operator.leaderElection.enabled=false"], "leaderElection"),
    (["--set", "rbac.scope=everywhere"], "rbac/scope"),
    (["--set", "aws.accountId=12345"], "aws/accountId"),
    (["--set", "operator.replicaz=2"], "replicaz"),
    (["--set", "runner.defaultEgress[0].port=443"], "defaultEgress"),
    # an access key must say what it may do: policies, or fullAccess; nothing else (issue 21)
    (["--set", "api.credentials.accessKeys.AKIAEXAMPLE000000001.secretAccessKey=s",
      "--set", "api.credentials.accessKeys.AKIAEXAMPLE000000001.principal=arn:aws:iam::123456789012:user/x"],
     "AKIAEXAMPLE000000001"),
    (["--set", "api.credentials.accessKeys.AKIAEXAMPLE000000001.secretAccessKey=s",
      "--set", "api.credentials.accessKeys.AKIAEXAMPLE000000001.principal=arn:aws:iam::123456789012:user/x",
      "--set", "api.credentials.accessKeys.AKIAEXAMPLE000000001.fullAccess=true",
      "--set", "api.credentials.accessKeys.AKIAEXAMPLE000000001.polices[0].Version=2012-10-17"], "polices"),
])
def test_bad_values_are_refused_with_the_field_named(args, message):
    assert message in render(*args, ok=False)


def test_values_readme_is_up_to_date():
    proc = subprocess.run([str(TOP / ".venv/bin/python"), str(TOP / "hack/chart-readme.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_operators_lease_requests_get_the_leader_election_priority_level_unless_turned_off():
    flows = find(render(), "FlowSchema")
    assert len(flows) == 1
    spec = flows[0]["spec"]
    assert spec["priorityLevelConfiguration"] == {"name": "leader-election"}
    rule = spec["rules"][0]
    assert rule["subjects"] == [{"kind": "ServiceAccount",
                                 "serviceAccount": {"name": "updraft-operator", "namespace": "updraft-system"}}]
    assert rule["resourceRules"][0]["resources"] == ["leases"]
    assert rule["resourceRules"][0]["namespaces"] == ["updraft-system"]
    assert not find(render("--set", "operator.leaderElection.flowSchema=false"), "FlowSchema")
    assert not find(render("--set", "operator.leaderElection.enabled=false"), "FlowSchema")
