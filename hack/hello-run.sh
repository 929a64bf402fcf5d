#!/usr/bin/env bash
# Apply examples/01-hello, start a run of it and wait for SUCCESS; prints the run's name last.
# Used by `make demo` (the local cluster) and `make kind-up` (kind). KUBECTL is the kubectl
# command line to use (default: kubectl on PATH with the current context).
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a kubectl <<<"${KUBECTL:-kubectl}"
"${kubectl[@]}" apply -f examples/01-hello/workflow.yaml >&2
"${kubectl[@]}" wait --for=jsonpath='{.status.workflowStatus}'=READY workflow/hello --timeout=120s >/dev/null
run=$("${kubectl[@]}" create -o name -f - <<'YAML'
apiVersion: updraft.dev/v1alpha1
kind: WorkflowRun
metadata: {generateName: hello-}
spec: {workflowName: hello, overrideParameters: {greeting: hi}}
YAML
)
run=${run#*/}
echo "waiting for $run to succeed" >&2
if ! "${kubectl[@]}" wait --for=jsonpath='{.status.runState}'=SUCCESS "workflowrun/$run" --timeout=300s >/dev/null; then
  "${kubectl[@]}" get "workflowrun/$run" -o yaml >&2
  echo "run $run did not succeed (above: its status; operator log: kubectl -n updraft-system logs deploy/updraft-operator)" >&2
  exit 1
fi
"${kubectl[@]}" get workflowrun "$run" >&2
echo "$run"
