#!/usr/bin/env bash
# Build the project's real Dockerfiles (operator, runner) with buildah on the local base image,
# export OCI archives and import them into containerd's k8s.io namespace as
# updraft.local/{operator,runner}:dev. An image is rebuilt only when its inputs change.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
top=$(cd "$here/../.." && pwd)
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
base=$("$here/base-image.sh" | tail -1)
mkdir -p "$CACHE/images"
host_ca=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}

# inputs_hash FILE...: a digest of the build inputs (tracked and untracked, ignoring caches).
inputs_hash() {
  (cd "$top" && find "$@" -type f -not -path '*/__pycache__/*' -not -name '*.pyc' -print0 | sort -z |
    xargs -0 sha256sum | sha256sum | cut -c1-16)
}

# build NAME DOCKERFILE INPUTS...
build() {
  local name=$1 dockerfile=$2; shift 2
  local ref="updraft.local/$name:dev" key
  key=$(inputs_hash "$dockerfile" "$@" .dockerignore)-$(basename "$base" .tar)
  local archive="$CACHE/images/$name-$key.tar"
  if [ ! -f "$archive" ]; then
    log "building $ref ($dockerfile)"
    # pip inside the build trusts what the host trusts (a TLS-intercepting proxy's CA included).
    (cd "$top" && buildah bud --quiet --layers --pull=never --build-arg "BASE_IMAGE=oci-archive:$base" \
      --volume "$host_ca:/etc/ssl/certs/host-ca.crt:ro" --build-arg PIP_CERT=/etc/ssl/certs/host-ca.crt \
      -f "$dockerfile" -t "$ref" . >"$LOGS/build-$name.log" 2>&1) ||
      die "building $ref failed: see $LOGS/build-$name.log"
    buildah push --quiet "$ref" "oci-archive:$archive.tmp:$ref" >>"$LOGS/build-$name.log" 2>&1 ||
      die "exporting $ref failed: see $LOGS/build-$name.log"
    mv "$archive.tmp" "$archive"
    find "$CACHE/images" -name "$name-*.tar" ! -name "$(basename "$archive")" -delete
  fi
  if [ "$(cat "$STATE/image-$name" 2>/dev/null)" != "$key" ] ||
     ! ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -qx "docker.io/$ref\|$ref"; then
    log "importing $ref"
    ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$archive" >/dev/null
    echo "$key" >"$STATE/image-$name"
  fi
}

build operator Dockerfile pyproject.toml README.md operator
build runner runner-image/Dockerfile runner-image pyproject.toml README.md operator
