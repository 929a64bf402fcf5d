#!/usr/bin/env bash
# Print the local cluster's admin kubeconfig path (the last line of output).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ -f "$KUBECONFIG_ADMIN" ] || die "no local cluster yet: run 'make cluster-up'"
echo "$KUBECONFIG_ADMIN"
