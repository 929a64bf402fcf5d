#!/usr/bin/env bash
# THE test run (`make test`, and what CI runs after `make setup`): bring up the local cluster,
# build and load the images, deploy Updraft, then run every test tier against the real parts.
# Prints where the time goes. A missing cluster or Airflow is an error here, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
phase() { printf '[test] %-28s %4ds (total %ds)\n' "$1" $((SECONDS - $2)) $((SECONDS - t0)) >&2; }

s=$SECONDS; bash hack/cluster/build-binaries.sh >/dev/null; phase "binaries (cached)" $s
s=$SECONDS; QUIET=1 bash hack/cluster/up.sh; phase "cluster up" $s
s=$SECONDS; QUIET=1 bash hack/cluster/images.sh; phase "images" $s
s=$SECONDS; QUIET=1 bash hack/cluster/deploy.sh; phase "deploy" $s

export UPDRAFT_KUBECONFIG UPDRAFT_REQUIRE_CLUSTER=1 UPDRAFT_REQUIRE_AIRFLOW=1
UPDRAFT_KUBECONFIG=$(bash hack/cluster/kubeconfig.sh | tail -1)
s=$SECONDS
rc=0
.venv/bin/python -m pytest -p no:cacheprovider "$@" || rc=$?
phase "pytest" $s
if [ $rc -ne 0 ]; then
  echo "[test] FAILED (pytest exit $rc). Cluster component logs: $(dirname "$UPDRAFT_KUBECONFIG")/logs" >&2
fi
exit $rc
