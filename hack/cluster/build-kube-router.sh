#!/usr/bin/env bash
# Build kube-router (its NetworkPolicy controller is the local cluster's policy engine) from the
# Go module proxy into a version-stamped cache:
#   $UPDRAFT_CACHE/bin/kube-router-<KUBE_ROUTER_VERSION>/kube-router   (the path is the last line)
# A rerun is a no-op while the stamp matches the pinned version and the host's Go. kube-router's
# go.mod has no replace directives, so `go install module/cmd@version` builds what upstream pins.
# A cold build took 18.5 min on this 2-core machine while Kubernetes was building beside it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache=${UPDRAFT_CACHE:-$HOME/.cache/updraft}
out="$cache/bin/kube-router-$KUBE_ROUTER_VERSION"
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOPROXY=${GOPROXY:-https://proxy.golang.org} GOFLAGS=
export GOMODCACHE=${GOMODCACHE:-$cache/go/mod} GOCACHE=${GOCACHE:-$cache/go/build}

log() { printf '[build-kube-router] %s\n' "$*" >&2; }

want="$KUBE_ROUTER_VERSION/$("$GO" env GOVERSION)"
if [ -x "$out/kube-router" ] && [ "$(cat "$out/.stamp-kube-router" 2>/dev/null)" = "$want" ]; then
  echo "$out/kube-router"
  exit 0
fi
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "building kube-router $KUBE_ROUTER_VERSION with $("$GO" env GOVERSION)"
GOBIN="$tmp" "$GO" install -trimpath -ldflags "-s -w" \
  "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION"
mv "$tmp/kube-router" "$out/kube-router"
echo "$want" >"$out/.stamp-kube-router"
echo "$out/kube-router"
