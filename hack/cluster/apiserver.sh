#!/usr/bin/env bash
# The local cluster's kube-apiserver as a fault (tests/chaos):
#   hack/cluster/apiserver.sh restart    stop it and start it again with the arguments up.sh
#                                        gave it, then wait until it is ready (prints the seconds
#                                        it was away)
# Clients see refused connections and cut watches meanwhile, as in an apiserver upgrade.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

restart() {
  pid_alive kube-apiserver || die "no kube-apiserver started by up.sh runs: run 'make cluster-up'"
  [ -s "$RUN/kube-apiserver.args" ] || die "$RUN/kube-apiserver.args is missing: run 'make cluster-up' once"
  local args t0=$SECONDS
  mapfile -t args <"$RUN/kube-apiserver.args"
  stop kube-apiserver
  start kube-apiserver "${args[@]}"
  wait_for "kube-apiserver ready again" 90 kubectl_admin get --raw /readyz
  echo "$((SECONDS - t0))"
}

case "${1:-}" in
  restart) restart ;;
  *) echo "usage: $0 restart" >&2; exit 2 ;;
esac
