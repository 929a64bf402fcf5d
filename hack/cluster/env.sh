#!/usr/bin/env bash
# Print shell exports that put the local cluster's kubectl and helm on PATH and point KUBECONFIG
# at it:  eval "$(make -s cluster-env)"
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ -f "$KUBECONFIG_ADMIN" ] || die "no local cluster yet: run 'make cluster-up' (or 'make demo')"
[ -x "$BIN/kubectl" ] || die "kubectl is not built yet: run 'make binaries'"
printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_ADMIN"
printf 'export PATH=%q:"$PATH"\n' "$BIN"
