#!/usr/bin/env bash
# Simulated task pods on the local cluster: KWOK as a host process plus two fake Nodes.
#
#   hack/cluster/kwok.sh up       start kwok (building it if needed) and register kwok-node-0 and
#                                 kwok-node-1 (again, if one was deleted: the fault suite's node loss)
#   hack/cluster/kwok.sh down     remove both fake nodes (their pods go with them) and stop kwok
#   hack/cluster/kwok.sh status   whether kwok runs, each node's Ready condition, pods on it
#   hack/cluster/kwok.sh stages   print the configuration and Stages that `up` writes
#
# Both up and down are idempotent. The fake nodes carry the label type=kwok, the annotation
# kwok.x-k8s.io/node=fake (what this kwok manages) and the taint kwok.x-k8s.io/node=fake:NoSchedule,
# so only pods that ask for them land there (Updraft: chart values runner.nodeSelector
# {type: kwok} and runner.tolerations for that taint), spread over both by the scheduler; the real
# node is left alone and everybody else's pods keep running on it. One kwok process manages both;
# they share one InternalIP (KWOK_NODE_IP: nothing connects to a fake node), pod IPs are unique.
#
# What kwok does to pods on the fake node (the Stage documents written below):
#   pod-ready      Pending -> Running/Ready at once, with a pod IP from KWOK_POD_CIDR;
#   pod-complete   a Running pod labelled updraft.dev/run ends after KWOK_TASK_MS milliseconds:
#                  exit 0, phase Succeeded, termination message {"state":"success"}, the runner's
#                  report that the operator reads (operator/updraft/engine/outcome.py);
#   argo-pod-complete  a Running pod of an Argo Workflow (labelled workflows.argoproj.io/workflow:
#                  bench/peers/peer_kwok.py) ends the same way after KWOK_TASK_MS, exit 0, and first
#                  gets the WorkflowTaskResult its `wait` container would have written (below);
#   pod-delete     a pod being deleted is removed (there is no kubelet to finish it).
# There is no kubelet API for fake pods: `kubectl logs` on them fails.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NODES=(kwok-node-0 kwok-node-1)
KWOK_TASK_MS=${KWOK_TASK_MS:-1000}
KWOK_POD_CIDR=${KWOK_POD_CIDR:-10.245.0.0/16}   # outside POD_CIDR and SERVICE_CIDR
KWOK_NODE_IP=${KWOK_NODE_IP:-10.245.255.254}
KWOK_PARALLELISM=${KWOK_PARALLELISM:-16}
KWOK_CONF="$CONF/kwok.yaml"
KWOK_SLOW_MS=${KWOK_SLOW_MS:-20000}
CHAOS_TASKS="chaos_fail, chaos_flaky, chaos_slow, chaos_hang"

need_cluster() {
  [ -f "$KUBECONFIG_ADMIN" ] || die "no local cluster yet: run 'make cluster-up'"
  kubectl_admin get --raw /readyz >/dev/null 2>&1 || die "the local cluster's apiserver does not answer"
}

# terminated_status PHASE EXIT_CODE REASON MESSAGE: the status template of a pod whose containers
# all ended (what a kubelet would report), unindented.
terminated_status() {
  local phase=$1 code=$2 reason=$3 message=$4
  cat <<EOF
{{ \$now := Now }}
{{ \$started := or .status.startTime \$now }}
conditions:
- {type: PodScheduled, status: "True", lastTransitionTime: {{ \$started | Quote }}}
- {type: Initialized, status: "True", lastTransitionTime: {{ \$started | Quote }}}
- {type: ContainersReady, status: "False", reason: PodCompleted, lastTransitionTime: {{ \$now | Quote }}}
- {type: Ready, status: "False", reason: PodCompleted, lastTransitionTime: {{ \$now | Quote }}}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: false
  started: false
  restartCount: 0
  state:
    terminated:
      exitCode: $code
      reason: $reason
      message: '$message'
      startedAt: {{ \$started | Quote }}
      finishedAt: {{ \$now | Quote }}
{{ end }}
phase: $phase
EOF
}

# indent N: every line of stdin moved N spaces right (a template inside a YAML block scalar).
indent() { sed "s/^/$(printf '%*s' "$1" '')/"; }

# running_pod_stage NAME: the head of a Stage for a Running pod not being deleted; the caller
# goes on with more matchExpressions, then the delay and what the stage does.
running_pod_stage() {
  local name=$1
  cat <<EOF
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: $name}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: .metadata.deletionTimestamp, operator: DoesNotExist}
    - {key: .status.phase, operator: In, values: [Running]}
EOF
}

# finished_stage NAME DELAY_MS PHASE EXIT_CODE REASON MESSAGE EXTRA_MATCH: a Stage that ends a
# Running task pod (labelled updraft.dev/run, also matching EXTRA_MATCH) after DELAY_MS with that
# phase, exit code, reason and termination message (the runner's report).
finished_stage() {
  local name=$1 delay=$2 phase=$3 code=$4 reason=$5 message=$6 match=$7
  running_pod_stage "$name"
  cat <<EOF
    - {key: '.metadata.labels["updraft.dev/run"]', operator: Exists}
    $match
  delay: {durationMilliseconds: $delay}
  next:
    statusTemplate: |
EOF
  terminated_status "$phase" "$code" "$reason" "$message" | indent 6
}

# argo_stage: a Running pod of an Argo Workflow (v3.7) ends after KWOK_TASK_MS with exit code 0.
# Argo's controller keeps a Succeeded pod's node open until the node's WorkflowTaskResult says its
# outputs are reported (operator.go: IsTaskResultIncomplete; TaskResultSynced starts false), and
# that object is written by the pod's `wait` container, which kwok does not run. So the stage
# writes it first, as the executor would (workflow/executor/taskresult.go): named after the pod's
# node id, labelled with its workflow and report-outputs-completed "true", owned by the Workflow
# (the garbage collector deletes it with the Workflow); then the pod's status, as for Updraft's.
argo_stage() {
  local id='index .metadata.annotations "workflows.argoproj.io/node-id"'
  local wf='index .metadata.labels "workflows.argoproj.io/workflow"'
  running_pod_stage argo-pod-complete
  cat <<EOF
    - {key: '.metadata.labels["workflows.argoproj.io/workflow"]', operator: Exists}
    - {key: '.metadata.annotations["workflows.argoproj.io/node-id"]', operator: Exists}
  delay: {durationMilliseconds: $KWOK_TASK_MS}
  steps:
  - apply:
      template: |
        apiVersion: argoproj.io/v1alpha1
        kind: WorkflowTaskResult
        metadata:
          name: {{ $id | Quote }}
          namespace: {{ .metadata.namespace | Quote }}
          labels:
            workflows.argoproj.io/workflow: {{ $wf | Quote }}
            workflows.argoproj.io/report-outputs-completed: "true"
          ownerReferences:
          {{ range .metadata.ownerReferences }}{{ if eq .kind "Workflow" }}
          - {apiVersion: {{ .apiVersion | Quote }}, kind: Workflow, name: {{ .name | Quote }}, uid: {{ .uid | Quote }}}
          {{ end }}{{ end }}
  - patch:
      subresource: status
      root: status
      template: |
EOF
  terminated_status Succeeded 0 Completed '' | indent 8
}

# The KwokConfiguration and our Stages, one multi-document file. Every *Parallelism option is set:
# standalone kwok v0.8.0 does not default them when a configuration file is given.
write_config() {
  stages | write_conf "$KWOK_CONF"
}

stages() {
  cat <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  cidr: $KWOK_POD_CIDR
  nodeIP: $KWOK_NODE_IP
  manageNodesWithAnnotationSelector: kwok.x-k8s.io/node=fake
  nodeLeaseDurationSeconds: 40
  nodeLeaseParallelism: 4
  nodePlayStageParallelism: 4
  podPlayStageParallelism: $KWOK_PARALLELISM
  podsOnNodeSyncParallelism: 4
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: node-initialize}
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - {key: '.status.conditions.[] | select(.type == "Ready") | .status', operator: NotIn, values: ["True"]}
  next:
    statusTemplate: |
      {{ \$now := Now }}
      conditions:
      {{ range NodeConditions }}
      - {type: {{ .type | Quote }}, status: {{ .status | Quote }}, reason: {{ .reason | Quote }}, message: {{ .message | Quote }}, lastHeartbeatTime: {{ \$now | Quote }}, lastTransitionTime: {{ \$now | Quote }}}
      {{ end }}
      addresses:
      - {type: InternalIP, address: {{ NodeIP | Quote }}}
      - {type: Hostname, address: {{ .metadata.name | Quote }}}
      allocatable: {cpu: "1000", memory: 4Ti, pods: "100000"}
      capacity: {cpu: "1000", memory: 4Ti, pods: "100000"}
      nodeInfo: {architecture: amd64, operatingSystem: linux, kubeletVersion: kwok-$KWOK_VERSION, kubeProxyVersion: kwok-$KWOK_VERSION, containerRuntimeVersion: kwok-$KWOK_VERSION, kernelVersion: "", osImage: "", machineID: "", systemUUID: "", bootID: ""}
      phase: Running
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: node-heartbeat}
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - {key: '.status.conditions.[] | select(.type == "Ready") | .status', operator: In, values: ["True"]}
  delay: {durationMilliseconds: 20000, jitterDurationMilliseconds: 25000}
  next:
    statusTemplate: |
      {{ \$now := Now }}
      conditions:
      {{ range NodeConditions }}
      - {type: {{ .type | Quote }}, status: {{ .status | Quote }}, reason: {{ .reason | Quote }}, message: {{ .message | Quote }}, lastHeartbeatTime: {{ \$now | Quote }}, lastTransitionTime: {{ \$now | Quote }}}
      {{ end }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-ready}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: .metadata.deletionTimestamp, operator: DoesNotExist}
    - {key: .status.phase, operator: In, values: [Pending]}
  next:
    statusTemplate: |
      {{ \$now := Now }}
      conditions:
      - {type: PodScheduled, status: "True", lastTransitionTime: {{ \$now | Quote }}}
      - {type: Initialized, status: "True", lastTransitionTime: {{ \$now | Quote }}}
      - {type: ContainersReady, status: "True", lastTransitionTime: {{ \$now | Quote }}}
      - {type: Ready, status: "True", lastTransitionTime: {{ \$now | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
      - {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: true, started: true, restartCount: 0, state: {running: {startedAt: {{ \$now | Quote }}}}}
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName false .metadata.uid .metadata.name .metadata.namespace | Quote }}
      phase: Running
      startTime: {{ \$now | Quote }}
EOF
  finished_stage pod-complete "$KWOK_TASK_MS" Succeeded 0 Completed '{"state":"success"}' \
    "- {key: '.metadata.labels[\"updraft.dev/task\"]', operator: NotIn, values: [$CHAOS_TASKS]}"
  # the fault suite's tasks (tests/chaos), chosen by task id: chaos_fail always fails,
  # chaos_flaky fails its first attempt only, chaos_slow takes KWOK_SLOW_MS, chaos_hang never ends
  local task='.metadata.labels["updraft.dev/task"]' attempt='.metadata.labels["updraft.dev/attempt"]'
  finished_stage chaos-fail "$KWOK_TASK_MS" Failed 1 Error '{"state":"failed","error":"chaos: this task always fails"}' \
    "- {key: '$task', operator: In, values: [chaos_fail]}"
  finished_stage chaos-flaky-first "$KWOK_TASK_MS" Failed 1 Error '{"state":"failed","error":"chaos: a first attempt that fails"}' \
    "- {key: '$task', operator: In, values: [chaos_flaky]}
    - {key: '$attempt', operator: In, values: [\"1\"]}"
  finished_stage chaos-flaky-again "$KWOK_TASK_MS" Succeeded 0 Completed '{"state":"success"}' \
    "- {key: '$task', operator: In, values: [chaos_flaky]}
    - {key: '$attempt', operator: NotIn, values: [\"1\"]}"
  finished_stage chaos-slow "$KWOK_SLOW_MS" Succeeded 0 Completed '{"state":"success"}' \
    "- {key: '$task', operator: In, values: [chaos_slow]}"
  argo_stage
  cat <<EOF
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-delete}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: .metadata.deletionTimestamp, operator: Exists}
  next:
    delete: true
EOF
}

# node_manifest NAME: a fake node of this kwok (the annotation is what it manages).
node_manifest() {
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $1
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {type: kwok, kubernetes.io/hostname: $1, kubernetes.io/os: linux, kubernetes.io/arch: amd64}
spec:
  taints: [{key: kwok.x-k8s.io/node, value: fake, effect: NoSchedule}]
EOF
}

node_ready() {
  [ "$(kubectl_admin get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

all_ready() {
  local node
  for node in "${NODES[@]}"; do node_ready "$node" || return 1; done
}

stop_kwok() {
  pid_alive kwok || { rm -f "$RUN/kwok.pid"; return 0; }
  local pid; pid=$(cat "$RUN/kwok.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN/kwok.pid"
}

up() {
  need_cluster
  local kwok node
  kwok=$(bash "$here/build-kwok.sh" | tail -1)
  mkdir -p "$CONF" "$RUN" "$LOGS"
  local before; before=$(cat "$KWOK_CONF" 2>/dev/null || true)
  write_config
  # a changed configuration (another KWOK_TASK_MS, say) needs a fresh process
  if pid_alive kwok && [ "$before" != "$(cat "$KWOK_CONF")" ]; then log "kwok configuration changed: restarting"; stop_kwok; fi
  start kwok "$kwok" --kubeconfig "$KUBECONFIG_ADMIN" --config "$KWOK_CONF"
  for node in "${NODES[@]}"; do node_manifest "$node" | kubectl_admin apply -f - >/dev/null; done
  wait_for "kwok to mark ${NODES[*]} Ready (log: $LOGS/kwok.log)" 60 all_ready
  pid_alive kwok || die "kwok exited; see $LOGS/kwok.log"
  log "kwok runs (pid $(cat "$RUN/kwok.pid")); ${NODES[*]} Ready"
}

down() {
  local node
  if [ -f "$KUBECONFIG_ADMIN" ] && kubectl_admin get --raw /readyz >/dev/null 2>&1; then
    for node in "${NODES[@]}"; do
      # Pods bound to the node go first, while kwok still runs to finish their deletion.
      kubectl_admin delete pods -A --field-selector "spec.nodeName=$node" --wait=false >/dev/null 2>&1 || true
      kubectl_admin delete node "$node" --ignore-not-found >/dev/null
      kubectl_admin -n kube-node-lease delete lease "$node" --ignore-not-found >/dev/null
    done
  fi
  stop_kwok
  log "kwok stopped; ${NODES[*]} removed"
}

status() {
  local node
  if pid_alive kwok; then echo "kwok: running (pid $(cat "$RUN/kwok.pid"), log $LOGS/kwok.log)"; else echo "kwok: stopped"; fi
  for node in "${NODES[@]}"; do
    if [ -f "$KUBECONFIG_ADMIN" ] && kubectl_admin get node "$node" >/dev/null 2>&1; then
      echo "$node: Ready=$(kubectl_admin get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')"
      echo "pods on $node: $(kubectl_admin get pods -A --field-selector "spec.nodeName=$node" --no-headers 2>/dev/null | wc -l)"
    else
      echo "$node: absent"
    fi
  done
  pid_alive kwok && all_ready
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  stages) stages ;;   # the configuration `up` writes, to stdout (no cluster needed)
  *) echo "usage: $0 up|down|status|stages" >&2; exit 2 ;;
esac
