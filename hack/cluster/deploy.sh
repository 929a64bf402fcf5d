#!/usr/bin/env bash
# Install (or upgrade) Updraft on the local cluster with its Helm chart, using the images
# `make images` loaded and hack/cluster/local-values.yaml. Idempotent.
#   deploy.sh                   the chart, operator and API running
#   deploy.sh --operator-replicas 0
#                               the chart with no operator running (the integration tests start
#                               their own operators and must not compete with one)
# Extra `--set`/`-f` arguments after `--` go to helm.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
top=$(cd "$here/../.." && pwd)
replicas=1
while [ $# -gt 0 ]; do
  case $1 in
    --operator-replicas) replicas=$2; shift 2 ;;
    --) shift; break ;;
    *) die "deploy.sh: unknown argument $1 (see the header of $0)" ;;
  esac
done
# A rebuilt image keeps its tag (dev): its build key in the pod template rolls the pods.
keys=()
for name in operator runner; do
  [ -f "$STATE/image-$name" ] || die "no $name image loaded: run make images first"
  keys+=(--set-string "operator.podAnnotations.updraft\.dev/$name-image=$(cat "$STATE/image-$name")")
done
keys+=(--set-string "api.podAnnotations.updraft\.dev/operator-image=$(cat "$STATE/image-operator")")
# Clusters set up before the chart existed hold the same objects without Helm's ownership marks:
# adopt the CRDs (and so every Workflow) and the task-API key; remove the rest, which the chart
# recreates (a Deployment's selector cannot change in place).
legacy=0
for obj in crd/workflows.updraft.dev crd/workflowruns.updraft.dev crd/workflowversions.updraft.dev \
           "-n updraft-system secret/updraft-task-api"; do
  # shellcheck disable=SC2086
  owner=$(kubectl_admin get $obj -o jsonpath='{.metadata.annotations.meta\.helm\.sh/release-name}' 2>/dev/null) || continue
  [ -z "$owner" ] || continue
  log "adopting $obj into the Helm release"
  # shellcheck disable=SC2086
  kubectl_admin annotate $obj --overwrite meta.helm.sh/release-name=updraft \
    meta.helm.sh/release-namespace=updraft-system >/dev/null
  # shellcheck disable=SC2086
  kubectl_admin label $obj --overwrite app.kubernetes.io/managed-by=Helm >/dev/null
  legacy=1
done
if [ $legacy = 1 ]; then
  kubectl_admin -n updraft-system delete deploy/updraft-operator svc/updraft-operator sa/updraft-operator \
    --ignore-not-found --wait=true >/dev/null
  kubectl_admin delete clusterrole/updraft-operator clusterrolebinding/updraft-operator --ignore-not-found >/dev/null
fi
"$BIN/helm" upgrade --install updraft "$top/charts/updraft" --kubeconfig "$KUBECONFIG_ADMIN" \
  --namespace updraft-system --create-namespace -f "$here/local-values.yaml" \
  --set "operator.replicas=$replicas" "${keys[@]}" "$@" --wait --timeout 5m >"$LOGS/helm-deploy.log" 2>&1 ||
  die "helm upgrade --install failed: see $LOGS/helm-deploy.log"
kubectl_admin label namespace updraft-system --overwrite pod-security.kubernetes.io/enforce=restricted >/dev/null
for crd in workflows workflowruns workflowversions; do
  kubectl_admin wait --for=condition=Established "crd/$crd.updraft.dev" --timeout=60s >/dev/null
done
log "Updraft installed (operator replicas: $replicas); helm status: $BIN/helm --kubeconfig $KUBECONFIG_ADMIN -n updraft-system status updraft"
