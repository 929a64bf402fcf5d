#!/usr/bin/env bash
# A local stand-in for the public `python:3.12-slim` base the project's Dockerfiles start FROM:
# Debian bookworm minbase from debootstrap plus Debian's python3 and venv, as an OCI archive that
# buildah can use with --pull=never. Cached; rebuilt only when this script changes.
# (Debian ships Python 3.11; the Dockerfiles work on both, with `python` on PATH.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
key=$(cat "$0" "$here/oci_image.py" | sha256sum | cut -c1-12)
out="$CACHE/images/base-$DEBIAN_SUITE-python-$key.tar"
if [ -f "$out" ]; then echo "$out"; exit 0; fi
mkdir -p "$CACHE/images"
root=$(mktemp -d "$CACHE/rootfs.XXXX")
trap 'rm -rf "$root"' EXIT
log "debootstrap $DEBIAN_SUITE (minbase + python3) into $root"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  "$DEBIAN_SUITE" "$root" http://deb.debian.org/debian >"$LOGS/debootstrap.log" 2>&1 ||
  die "debootstrap failed: see $LOGS/debootstrap.log"
ln -sf /usr/bin/python3 "$root/usr/local/bin/python"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/dev/* "$root"/proc/* "$root"/sys/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
layer="$root.layer.tar"
tar --numeric-owner --xattrs -C "$root" -cf "$layer" .
python3 "$here/oci_image.py" --from-layer "$layer" "$out.tmp" "updraft.local/base-python:$key" \
  --env PATH=/usr/local/bin:/usr/bin:/bin --env LANG=C.UTF-8 --cmd '["python3"]'
rm -f "$layer"
mv "$out.tmp" "$out"
echo "$out"
