# Shared settings and helpers of the local cluster scripts. Sourced, not run.
# shellcheck shell=bash
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

CACHE=${UPDRAFT_CACHE:-$HOME/.cache/updraft}
BIN="$CACHE/bin/k8s-$K8S_VERSION"
STATE=${UPDRAFT_CLUSTER_DIR:-$CACHE/cluster}
PKI="$STATE/pki" LOGS="$STATE/logs" RUN="$STATE/run" CONF="$STATE/conf"
KUBECONFIG_ADMIN="$STATE/admin.kubeconfig"
NODE_NAME=updraft-node
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SVC_IP=10.96.0.1
DNS_SVC_IP=10.96.0.10
POD_CIDR=10.244.0.0/16
CLUSTER_DOMAIN=cluster.local
CONTAINERD_SOCK=/run/containerd/containerd.sock
PAUSE_IMAGE="registry.k8s.io/pause:$PAUSE_VERSION"
PROBE_IMAGE="updraft.local/probe:1"
COREDNS_IMAGE="updraft.local/coredns:$COREDNS_VERSION"
# The AWS stand-in: a moto server (S3, STS, ...) on the node, for task pods and tests.
MOTO_PORT=5000

log() { [ -n "${QUIET:-}" ] || printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; printf '[cluster] component logs: %s\n' "$LOGS" >&2; exit 1; }

node_ip() {
  ip -4 route get 1.1.1.1 2>/dev/null | awk '{for (i=1;i<NF;i++) if ($i=="src") {print $(i+1); exit}}'
}

kubectl_admin() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# pid_alive NAME: the process we started under NAME still runs.
pid_alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

# close_inherited_fds: close every descriptor above stderr in this (sub)shell.
close_inherited_fds() {
  local fd
  for fd in $(ls /proc/$BASHPID/fd); do
    [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
  done
  return 0
}

# start NAME CMD...: run a component in the background, logging to $LOGS/NAME.log.
start() {
  local name=$1; shift
  pid_alive "$name" && return 0
  log "starting $name"
  # a daemon keeps none of its caller's open files: an inherited lock (flock) or pipe (a CI
  # runner's output) would stay held for as long as the cluster runs
  (close_inherited_fds; exec setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null) &
  echo $! >"$RUN/$name.pid"
}

# wait_for WHAT SECONDS CMD...: poll CMD until it succeeds.
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "timed out after ${secs}s waiting for $what"
    sleep 0.5
  done
}

# write_conf FILE < content: replace FILE only when the content differs (kube-proxy exits when
# its configuration file is touched, and a rerun of cluster-up must not disturb what runs).
write_conf() {
  local tmp; tmp=$(mktemp)
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}
