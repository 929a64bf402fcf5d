#!/usr/bin/env bash
# Print the name of a small image present on the node (busybox: sh, echo, sleep, wget, nslookup).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q 2>/dev/null | grep -qx "$PROBE_IMAGE" ||
  die "$PROBE_IMAGE is not on the node: run 'make cluster-up'"
echo "$PROBE_IMAGE"
