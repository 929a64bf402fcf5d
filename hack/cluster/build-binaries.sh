#!/usr/bin/env bash
# Build the local cluster's binaries from the Go module proxy into a version-stamped cache:
#   $UPDRAFT_CACHE/bin/<K8S_VERSION>/{kube-apiserver,kube-controller-manager,kube-scheduler,
#                                      kubelet,kube-proxy,etcd,coredns,helm,pause}
# A stamp file per set makes reruns no-ops until a pinned version in versions.env changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache=${UPDRAFT_CACHE:-$HOME/.cache/updraft}
out="$cache/bin/k8s-$K8S_VERSION"
mkdir -p "$out"
export GOTOOLCHAIN=$GO_TOOLCHAIN GOFLAGS=-mod=mod CGO_ENABLED=0 GOPROXY=${GOPROXY:-https://proxy.golang.org}
export GOMODCACHE=${GOMODCACHE:-$cache/go/mod} GOCACHE=${GOCACHE:-$cache/go/build}

log() { printf '[build-binaries] %s\n' "$*" >&2; }

stamped() { [ -f "$out/.stamp-$1" ] && [ "$(cat "$out/.stamp-$1")" = "$2" ]; }
stamp() { echo "$2" >"$out/.stamp-$1"; }

# One wrapper module holds Kubernetes and etcd: k/k requires every staging module at v0.0.0 and
# replaces it with ./staging, which the proxy cannot serve, so map each to its published v0.x tag.
build_kubernetes() {
  local want="$K8S_VERSION/$ETCD_VERSION/$GO_TOOLCHAIN" bins="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl"
  stamped kubernetes "$want" && ls "$out/etcd" >/dev/null 2>&1 && (cd "$out" && ls $bins >/dev/null 2>&1) && return 0
  local mod="$cache/src/k8s-$K8S_VERSION" minor=${K8S_VERSION#v1.}
  mkdir -p "$mod"
  {
    echo "module updraft.dev/localcluster"
    echo "go 1.24.0"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    for m in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go \
      cloud-provider cluster-bootstrap code-generator component-base component-helpers \
      controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation \
      endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy \
      kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver; do
      echo "replace k8s.io/$m => k8s.io/$m v0.$minor"
    done
  } >"$mod/go.mod"
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor%%.*}"
  ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  (
    cd "$mod"
    for b in $bins; do
      stamped kubernetes "$want" && [ -x "$out/$b" ] && continue
      log "building $b $K8S_VERSION"
      go build -trimpath -ldflags "$ldflags" -o "$out/$b" "k8s.io/kubernetes/cmd/$b"
    done
    stamped kubernetes "$want" && [ -x "$out/etcd" ] && exit 0
    log "building etcd $ETCD_VERSION"
    go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3
  )
  # The pause binary's source ships inside the k8s.io/kubernetes module.
  local src
  src=$(cd "$mod" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-updraft" -o "$out/pause" "$src"
  stamp kubernetes "$want"
}

# CoreDNS and Helm each carry their own dependency graphs: separate modules, plain builds.
build_plain() { # name module version package
  local name=$1 module=$2 version=$3 pkg=$4
  stamped "$name" "$version/$GO_TOOLCHAIN" && return 0
  local mod="$cache/src/$name-$version"
  mkdir -p "$mod"
  printf 'module updraft.dev/%s\ngo 1.24.0\nrequire %s %s\n' "$name" "$module" "$version" >"$mod/go.mod"
  log "building $name $version"
  (cd "$mod" && go build -trimpath -ldflags "-s -w" -o "$out/$name" "$pkg")
  stamp "$name" "$version/$GO_TOOLCHAIN"
}

build_kubernetes
build_plain coredns github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns
build_plain helm helm.sh/helm/v3 "$HELM_VERSION" helm.sh/helm/v3/cmd/helm
echo "$out"
