#!/usr/bin/env bash
# THE test run (`make test`, and what CI runs after `make setup`): bring up the local cluster,
# build and load the images, then run every test tier against the real parts:
#   1. the chart: helm lint and helm template over its value scenarios;
#   2. unit, differential (real Airflow) and integration (real cluster; each test runs its own
#      operator process in its own namespace) with the chart installed but its operator scaled
#      to 0, so that none competes with the tests' own;
#   3. end-to-end against the chart's operator and API (make deploy);
#   4. a short smoke of the capacity benchmark on KWOK-simulated pods (make bench ARGS=--smoke);
#   5. the peers benchmark's set-up check: Argo and Airflow built (cached), each system's one-task
#      workflow run once (bench/peers/run.py --smoke; the series is make bench-peers);
#   6. the fault suite's tier 2, short (tests/chaos/driver.py --short; the full one is make chaos).
# Prints where the time goes. A missing cluster or Airflow is an error here, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
phase() { printf '[test] %-28s %4ds (total %ds)\n' "$1" $((SECONDS - $2)) $((SECONDS - t0)) >&2; }
source hack/cluster/lib.sh

s=$SECONDS; bash hack/cluster/build-binaries.sh >/dev/null; phase "binaries (cached)" $s
s=$SECONDS; QUIET=1 bash hack/cluster/up.sh; phase "cluster up" $s
s=$SECONDS; QUIET=1 bash hack/cluster/images.sh; phase "images" $s
s=$SECONDS; bash hack/helm-check.sh >/dev/null; phase "helm lint + template" $s
s=$SECONDS; QUIET=1 bash hack/cluster/deploy.sh --operator-replicas 0; phase "helm install (operator at 0)" $s

export UPDRAFT_KUBECONFIG UPDRAFT_REQUIRE_CLUSTER=1 UPDRAFT_REQUIRE_AIRFLOW=1
export UPDRAFT_FUZZ_EXAMPLES=${UPDRAFT_FUZZ_EXAMPLES:-1000}  # the fuzz tier, longer than in `make unit` (60)
UPDRAFT_KUBECONFIG=$(bash hack/cluster/kubeconfig.sh | tail -1)
failed=0
s=$SECONDS
.venv/bin/mypy || failed=$?
phase "mypy (strict on the core and the model)" $s
s=$SECONDS
.venv/bin/python -m pytest -p no:cacheprovider -m "not e2e" "$@" || failed=$?
phase "pytest: unit, differential, integration" $s

s=$SECONDS; QUIET=1 bash hack/cluster/deploy.sh; phase "helm upgrade (operator at 1)" $s
s=$SECONDS
.venv/bin/python -m pytest -p no:cacheprovider -m e2e tests/e2e || failed=$?
phase "pytest: e2e" $s
# the capacity harness on KWOK-simulated pods (kwok built once from the Go module proxy, cached):
# a 2-minute smoke so the benchmark cannot rot; its figures are printed, never asserted
s=$SECONDS
bash hack/cluster/build-kwok.sh >/dev/null && .venv/bin/python bench/capacity.py --smoke || failed=$?
phase "capacity smoke (KWOK)" $s
# the peers benchmark's set-up (issue 18): Argo from the Go module proxy and Airflow's venv, both
# cached; then one one-task run on Updraft, Argo and Airflow's KubernetesExecutor, real pods
s=$SECONDS
{ bash hack/peers/build-argo.sh >/dev/null && bash hack/peers/airflow-venv.sh >/dev/null &&
  .venv/bin/python bench/peers/run.py --smoke; } || failed=$?
phase "peers smoke (real pods)" $s
# the fault suite's tier 2, short (issue 15): the operator under the chart's RBAC behind a fault
# proxy, killed and restarted, the apiserver restarted, pods deleted; counted from the audit log
s=$SECONDS
.venv/bin/python tests/chaos/driver.py --short || failed=$?
phase "chaos tier 2, short (KWOK)" $s
if [ $failed -ne 0 ]; then
  echo "[test] FAILED (pytest exit $failed). Cluster component logs: $LOGS" >&2
fi
exit $failed
