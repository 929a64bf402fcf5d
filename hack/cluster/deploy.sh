#!/usr/bin/env bash
# Install Updraft into the local cluster: the CRDs, then (unless --crds-only) the operator from
# deploy/operator.yaml with the images `make images` loaded. The Helm chart will take this over.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
top=$(cd "$here/../.." && pwd)
kubectl_admin apply --server-side --force-conflicts -f "$top/crds/" >/dev/null
for crd in workflows workflowruns workflowversions; do
  wait_for "CRD $crd established" 30 \
    kubectl_admin wait --for=condition=Established "crd/$crd.updraft.dev" --timeout=2s
done
[ "${1:-}" = "--crds-only" ] && exit 0
kubectl_admin apply -f "$top/deploy/operator.yaml" >/dev/null
kubectl_admin -n updraft-system get secret updraft-task-api >/dev/null 2>&1 ||
  kubectl_admin -n updraft-system create secret generic updraft-task-api --from-literal=key="$(openssl rand -hex 32)" >/dev/null
# pick up a rebuilt image under the same tag
kubectl_admin -n updraft-system rollout restart deploy/updraft-operator >/dev/null
wait_for "the operator Deployment to become available" 180 \
  kubectl_admin -n updraft-system rollout status deploy/updraft-operator --timeout=2s
