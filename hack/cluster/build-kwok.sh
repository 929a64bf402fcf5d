#!/usr/bin/env bash
# Build KWOK's controller from the Go module proxy into a version-stamped cache:
#   $UPDRAFT_CACHE/bin/kwok-<KWOK_VERSION>/kwok      (the path is the last line of output)
# A rerun is a no-op while the stamp matches the pinned version and the host's Go.
# KWOK v0.8.0's go.mod says go 1.26.0 and has no replace directives, so a plain
# `go install module/cmd@version` with the host toolchain (GOTOOLCHAIN=local) builds exactly
# what upstream pins; the project's GO_TOOLCHAIN (for Kubernetes 1.33) is too old for it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache=${UPDRAFT_CACHE:-$HOME/.cache/updraft}
out="$cache/bin/kwok-$KWOK_VERSION"
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOPROXY=${GOPROXY:-https://proxy.golang.org} GOFLAGS=
export GOMODCACHE=${GOMODCACHE:-$cache/go/mod} GOCACHE=${GOCACHE:-$cache/go/build}

log() { printf '[build-kwok] %s\n' "$*" >&2; }

want="$KWOK_VERSION/$("$GO" env GOVERSION)"
if [ -x "$out/kwok" ] && [ "$(cat "$out/.stamp-kwok" 2>/dev/null)" = "$want" ]; then
  echo "$out/kwok"
  exit 0
fi
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "building kwok $KWOK_VERSION with $("$GO" env GOVERSION)"
GOBIN="$tmp" "$GO" install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
mv "$tmp/kwok" "$out/kwok"
echo "$want" >"$out/.stamp-kwok"
echo "$out/kwok"
