#!/usr/bin/env bash
# Build Argo Workflows' workflow-controller and argoexec from the Go module proxy into a
# version-stamped cache (the directory is the last line of output):
#   $UPDRAFT_CACHE/bin/argo-<ARGO_VERSION>/{workflow-controller,argoexec}
# plus the module's minimal CRDs and executor Role, read at bench time (never copied into the repo).
# A rerun is a no-op while the stamp matches the pinned version and the host's Go.
#
# Why not `go install ...@version`: the proxy refuses the v3 version list (403), and go.mod has a
# replace directive. So this builds inside a writable copy of the module directory. Go module zips
# drop symlinks, and upstream's workflow/executor/osspecific/signal_linux.go is a symlink to
# signal_darwin.go: without it argoexec fails (undefined: Setpgid); the copy gets it back.
# Slow on 2 cores with a cold build cache (tens of minutes): run it niced, outside CI's default path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache=${UPDRAFT_CACHE:-$HOME/.cache/updraft}
out="$cache/bin/argo-$ARGO_VERSION"
module=github.com/argoproj/argo-workflows/v3
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOPROXY=${GOPROXY:-https://proxy.golang.org} GOFLAGS=-mod=mod
export GOMODCACHE=${GOMODCACHE:-$cache/go/mod} GOCACHE=${GOCACHE:-$cache/go/build}

log() { printf '[build-argo] %s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

want="$ARGO_VERSION/$("$GO" env GOVERSION)"
if [ -x "$out/workflow-controller" ] && [ -x "$out/argoexec" ] && [ -d "$out/manifests" ] \
   && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$want" ]; then
  echo "$out"
  exit 0
fi
mkdir -p "$out"
log "downloading $module@$ARGO_VERSION"
info=$("$GO" mod download -json "$module@$ARGO_VERSION")
dir=$(printf '%s' "$info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
hash=$(printf '%s' "$info" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("Origin",{}).get("Hash",""))')
src="$cache/src/argo-$ARGO_VERSION"
rm -rf "$src"
mkdir -p "$(dirname "$src")"
cp -r "$dir" "$src"
chmod -R u+w "$src"
osdir="$src/workflow/executor/osspecific"
[ -e "$osdir/signal_linux.go" ] || cp "$osdir/signal_darwin.go" "$osdir/signal_linux.go"

pkg=github.com/argoproj/argo-workflows/v3
ldflags="-s -w -X $pkg.version=$ARGO_VERSION -X $pkg.gitTag=$ARGO_VERSION -X $pkg.gitCommit=$hash -X $pkg.gitTreeState=clean -extldflags -static"
for cmd in workflow-controller argoexec; do
  log "building $cmd with $("$GO" env GOVERSION)"
  (cd "$src" && "$GO" build -trimpath -ldflags "$ldflags" -o "$out/$cmd.tmp" "./cmd/$cmd")
  mv "$out/$cmd.tmp" "$out/$cmd"
done
# the manifests the bench applies (minimal CRDs, the emissary executor's Role), from the module
rm -rf "$out/manifests"
mkdir -p "$out/manifests"
mkdir -p "$out/manifests/crds"
cp "$src"/manifests/base/crds/minimal/argoproj.io_*.yaml "$out/manifests/crds/"
cp "$src/manifests/quick-start/base/executor/emissary/executor-role.yaml" "$out/manifests/executor-role.yaml"
rm -rf "$src"
echo "$want" >"$out/.stamp"
log "done"
echo "$out"
