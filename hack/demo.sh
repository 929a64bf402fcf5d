#!/usr/bin/env bash
# `make demo` (which runs `make setup` first): from a fresh machine to a workflow run in SUCCESS. Brings up the local
# cluster (or reuses it), builds and loads the images, installs the Helm chart, applies
# examples/01-hello and starts a run, waits for it, then shows where to watch: kubectl, the
# MWAA Serverless API (with the AWS CLI), the Prometheus metrics, and ends with the console's
# launch URL. Safe to run again: each run gets a fresh name.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/cluster/lib.sh
top=$(pwd)
step() { printf '\n==> %s\n' "$*"; }

step "local cluster (the first run builds Kubernetes from source: ~11 minutes)"
bash hack/cluster/build-binaries.sh >/dev/null
QUIET=1 bash hack/cluster/up.sh
step "images (operator and runner, from the Dockerfiles)"
QUIET=1 bash hack/cluster/images.sh
step "helm upgrade --install updraft charts/updraft"
QUIET=1 bash hack/cluster/deploy.sh

step "kubectl apply -f examples/01-hello/workflow.yaml, then a run of it"
run=$(KUBECTL="$BIN/kubectl --kubeconfig $KUBECONFIG_ADMIN" bash hack/hello-run.sh | tail -1) || die "the example run failed (above)"

api_ip=$(kubectl_admin -n updraft-system get svc updraft-api -o jsonpath='{.spec.clusterIP}')
op_ip=$(kubectl_admin -n updraft-system get svc updraft-operator -o jsonpath='{.spec.clusterIP}')
creds=$(kubectl_admin -n updraft-system get secret updraft-api-credentials -o jsonpath='{.data.credentials\.json}' | base64 -d)
key_id=$(printf '%s' "$creds" | "$top/.venv/bin/python" -c 'import json,sys; print(next(iter(json.load(sys.stdin))))')
secret=$(printf '%s' "$creds" | "$top/.venv/bin/python" -c 'import json,sys; print(next(iter(json.load(sys.stdin).values()))["secretAccessKey"])')

step "the same run through the MWAA Serverless API"
export AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$secret AWS_DEFAULT_REGION=us-east-1
arn=$("$top/.venv/bin/aws" mwaa-serverless --endpoint-url "http://$api_ip:8443" list-workflows \
  --query 'Workflows[?Name==`hello`].WorkflowArn' --output text)
"$top/.venv/bin/aws" mwaa-serverless --endpoint-url "http://$api_ip:8443" get-workflow-run \
  --workflow-arn "$arn" --run-id "$run" --query 'RunDetail.{State:RunState,Started:StartedOn,Duration:Duration}'

step "the console: a launch URL (CreateAirflowUiUrl, signed with the key above)"
ui_url=$("$top/.venv/bin/python" -m updraft.cli ui --endpoint-url "http://$api_ip:8443" --region us-east-1 -o json \
  | "$top/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["AuthorizedUrl"])') \
  || die "CreateAirflowUiUrl failed (above)"

step "metrics"
curl -s "http://$op_ip:8080/metrics" | grep -E '^updraft_runs_finished_total|^updraft_task_attempts_total' | head -6

cat <<EOF2

Updraft is running. Watch it (kubectl and helm are the ones the harness built):
  eval "\$(make -s cluster-env)"          # KUBECONFIG=$KUBECONFIG_ADMIN, PATH+=$BIN
  kubectl get workflows,workflowversions,workflowruns        # wf, wfv, wfr
  kubectl get wfr $run -o jsonpath='{.status.taskInstances}'
  kubectl get pods -l updraft.dev/run=$run                   # one pod per task attempt
  kubectl -n updraft-system logs deploy/updraft-operator

The API (keys from the Secret updraft-system/updraft-api-credentials):
  export AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=<from the Secret> AWS_DEFAULT_REGION=us-east-1
  .venv/bin/aws mwaa-serverless --endpoint-url http://$api_ip:8443 list-workflow-runs --workflow-arn $arn

Metrics: curl http://$op_ip:8080/metrics (operator), curl http://$api_ip:9090/metrics (API)

The console (the run's graph, its tasks and logs; start and stop runs). Open this launch URL
within 5 minutes; it works once, and its session lasts 12 hours. For another:
  .venv/bin/updraft ui --endpoint-url http://$api_ip:8443 --region us-east-1   # with the keys above
  $ui_url
EOF2
