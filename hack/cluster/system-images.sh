#!/usr/bin/env bash
# The cluster's own images, built from binaries on disk (no registry): the pause image, CoreDNS,
# and a busybox probe image for smoke tests. Each is imported into containerd's k8s.io namespace
# only when missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
out="$CACHE/images"
mkdir -p "$out"
present() { ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -qx "$1"; }
import() { ctr --address "$CONTAINERD_SOCK" -n k8s.io images import --no-unpack=false "$1" >/dev/null; }

# image NAME FILE ARGS...: write the archive once, import when containerd lacks it.
image() {
  local name=$1 file=$2; shift 2
  [ -f "$file" ] || python3 "$here/oci_image.py" "$file" "$name" "$@"
  present "$name" || { log "importing $name"; import "$file"; }
}

image "$PAUSE_IMAGE" "$out/pause-$PAUSE_VERSION.tar" --file "$BIN/pause:/pause:755" \
  --entrypoint '["/pause"]' --user 65535:65535
image "$COREDNS_IMAGE" "$out/coredns-$COREDNS_VERSION.tar" --file "$BIN/coredns:/coredns:755" \
  --entrypoint '["/coredns"]' --user 65532:65532
busybox=/bin/busybox
[ -x "$busybox" ] && file -b "$busybox" 2>/dev/null | grep -q static || busybox=$(command -v busybox)
links=()
for t in sh echo cat ls sleep env true false wget nslookup id test printf date; do links+=(--symlink "/bin/$t:busybox"); done
image "$PROBE_IMAGE" "$out/probe-1.tar" --file "$busybox:/bin/busybox:755" "${links[@]}" \
  --cmd '["/bin/sh"]'
