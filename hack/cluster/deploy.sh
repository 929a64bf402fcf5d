#!/usr/bin/env bash
# Install Updraft into the local cluster: the CRDs now; the Helm chart once it exists.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
top=$(cd "$here/../.." && pwd)
kubectl_admin apply --server-side --force-conflicts -f "$top/crds/" >/dev/null
for crd in workflows workflowruns workflowversions; do
  wait_for "CRD $crd established" 30 \
    kubectl_admin wait --for=condition=Established "crd/$crd.updraft.dev" --timeout=2s
done
