#!/usr/bin/env bash
# The Docker path: a kind cluster with the same images (built with `docker build` from the same
# Dockerfiles, on the public Python base) and the same CRDs/chart as the local harness, then a
# run of examples/01-hello to SUCCESS (it needs no AWS; task logs stay on the pods: logs.backend none).
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null || { echo "kind-up needs $tool on PATH" >&2; exit 1; }
done
kind get clusters 2>/dev/null | grep -qx updraft || kind create cluster --config hack/kind/kind-config.yaml
docker build -t updraft.local/operator:dev .
docker build -f runner-image/Dockerfile -t updraft.local/runner:dev .
kind load docker-image --name updraft updraft.local/operator:dev updraft.local/runner:dev
helm --kube-context kind-updraft upgrade --install updraft charts/updraft -n updraft-system --create-namespace \
  --set image.repository=updraft.local/operator --set image.tag=dev --set image.pullPolicy=Never \
  --set runner.image.repository=updraft.local/runner --set runner.image.tag=dev --set runner.image.pullPolicy=Never \
  --set logs.backend=none \
  --wait
run=$(KUBECTL="kubectl --context kind-updraft" bash hack/hello-run.sh | tail -1)
cat <<EOF
Updraft runs on kind: examples/01-hello ran to SUCCESS as $run. Watch it:
  kubectl --context kind-updraft get workflows,workflowversions,workflowruns
  kubectl --context kind-updraft get pods -l updraft.dev/run=$run
  kubectl --context kind-updraft -n updraft-system port-forward svc/updraft-operator 8080   # metrics
  kubectl --context kind-updraft -n updraft-system port-forward svc/updraft-api 8443        # the API
EOF
