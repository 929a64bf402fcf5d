#!/usr/bin/env bash
# THE test run (`make test`, and what CI runs after `make setup`): bring up the local cluster,
# build and load the images, then run every test tier against the real parts:
#   1. unit, differential (real Airflow) and integration (real cluster; each test runs its own
#      operator process in its own namespace) with only the CRDs installed;
#   2. end-to-end against the operator deployed in the cluster (make deploy).
# Prints where the time goes. A missing cluster or Airflow is an error here, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
phase() { printf '[test] %-28s %4ds (total %ds)\n' "$1" $((SECONDS - $2)) $((SECONDS - t0)) >&2; }
source hack/cluster/lib.sh

s=$SECONDS; bash hack/cluster/build-binaries.sh >/dev/null; phase "binaries (cached)" $s
s=$SECONDS; QUIET=1 bash hack/cluster/up.sh; phase "cluster up" $s
s=$SECONDS; QUIET=1 bash hack/cluster/images.sh; phase "images" $s
s=$SECONDS; QUIET=1 bash hack/cluster/deploy.sh --crds-only; phase "deploy CRDs" $s
# the integration tests run their own operators: no deployed one may compete with them
kubectl_admin -n updraft-system delete deploy/updraft-operator --ignore-not-found --wait=true >/dev/null

export UPDRAFT_KUBECONFIG UPDRAFT_REQUIRE_CLUSTER=1 UPDRAFT_REQUIRE_AIRFLOW=1
UPDRAFT_KUBECONFIG=$(bash hack/cluster/kubeconfig.sh | tail -1)
failed=0
s=$SECONDS
.venv/bin/python -m pytest -p no:cacheprovider -m "not e2e" "$@" || failed=$?
phase "pytest: unit, differential, integration" $s

s=$SECONDS; QUIET=1 bash hack/cluster/deploy.sh; phase "deploy operator" $s
s=$SECONDS
.venv/bin/python -m pytest -p no:cacheprovider -m e2e tests/e2e || failed=$?
phase "pytest: e2e" $s
if [ $failed -ne 0 ]; then
  echo "[test] FAILED (pytest exit $failed). Cluster component logs: $LOGS" >&2
fi
exit $failed
