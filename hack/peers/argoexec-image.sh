#!/usr/bin/env bash
# The Argo executor image, updraft.local/argoexec:<ARGO_VERSION>: the static argoexec that
# build-argo.sh built, at /bin/argoexec (the controller's init container finds it on PATH and
# copies it into every pod), written as a one-layer OCI archive with hack/cluster/oci_image.py and
# imported into the node's containerd when missing (no registry is reachable; pods use pullPolicy Never).
set -euo pipefail
peers=$(cd "$(dirname "$0")" && pwd)
source "$peers/../cluster/lib.sh"
# shellcheck source=versions.env
source "$peers/versions.env"
bin=$(bash "$peers/build-argo.sh" | tail -1)
name="updraft.local/argoexec:$ARGO_VERSION"
archive="$CACHE/images/argoexec-$ARGO_VERSION-$(sha256sum "$bin/argoexec" | cut -c1-12).tar"
mkdir -p "$CACHE/images"
keep=$(mktemp)
trap 'rm -f "$keep"' EXIT
if [ ! -f "$archive" ]; then
  python3 "$here/oci_image.py" "$archive.tmp" "$name" --file "$bin/argoexec:/bin/argoexec:755" \
    --file "$keep:/tmp/.keep:644" --entrypoint '["argoexec"]' --env PATH=/bin
  mv "$archive.tmp" "$archive"
  find "$CACHE/images" -name "argoexec-*.tar" ! -name "$(basename "$archive")" -delete
fi
if [ "$(cat "$STATE/image-argoexec" 2>/dev/null)" != "$(basename "$archive")" ] ||
   ! ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -qx "$name"; then
  log "importing $name"
  ctr --address "$CONTAINERD_SOCK" -n k8s.io images import --no-unpack=false "$archive" >/dev/null
  basename "$archive" >"$STATE/image-argoexec"
fi
echo "$name"
