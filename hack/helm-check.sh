#!/usr/bin/env bash
# helm lint and helm template over the chart's value scenarios (charts/updraft/ci/*.yaml, plus
# the defaults, the local cluster's values and the EKS example), with and without the Prometheus
# Operator API; then the chart README's values table must match values.yaml. Uses the Helm the
# cluster harness builds from the Go module proxy.
set -euo pipefail
source "$(dirname "$0")/cluster/lib.sh"
top=$(cd "$here/../.." && pwd)
chart="$top/charts/updraft"
helm="$BIN/helm"
[ -x "$helm" ] || bash "$here/build-binaries.sh" >/dev/null
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
kube=(--kube-version 1.33.0)
scenarios=("" "$top/hack/cluster/local-values.yaml" "$top/examples/helm/eks-values.yaml" "$chart"/ci/*.yaml)
for values in "${scenarios[@]}"; do
  args=(); name=defaults
  [ -n "$values" ] && { args=(-f "$values"); name=$(basename "$values" .yaml); }
  "$helm" lint "$chart" --strict "${kube[@]}" "${args[@]}" >"$out/lint.log" 2>&1 ||
    { cat "$out/lint.log" >&2; echo "helm lint failed: $name" >&2; exit 1; }
  for api in "" "--api-versions=monitoring.coreos.com/v1/ServiceMonitor --api-versions=monitoring.coreos.com/v1/PrometheusRule"; do
    # shellcheck disable=SC2086
    "$helm" template updraft "$chart" -n updraft-system "${kube[@]}" $api "${args[@]}" >"$out/$name.yaml" 2>"$out/err.log" ||
      { cat "$out/err.log" >&2; echo "helm template failed: $name $api" >&2; exit 1; }
  done
  echo "ok: $name ($(grep -c '^kind:' "$out/$name.yaml") objects)"
done
"$top/.venv/bin/python" "$top/hack/chart-readme.py" --check
