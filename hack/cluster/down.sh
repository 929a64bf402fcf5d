#!/usr/bin/env bash
# Stop everything the local cluster started (pods first, then the components) and free its
# ports. Cluster state (etcd data, certificates) stays for the next `make cluster-up`; pass
# --purge to remove it too.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ -d "$RUN" ] || exit 0
stop moto
stop kube-router
stop kube-proxy
stop kubelet
# Pod sandboxes and containers outlive kubelet; remove them while containerd still runs.
if command -v crictl >/dev/null 2>&1 && [ -S "$CONTAINERD_SOCK" ]; then
  crictl -r "unix://$CONTAINERD_SOCK" rmp -fa >/dev/null 2>&1 || true
elif [ -S "$CONTAINERD_SOCK" ]; then
  for t in $(ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks kill -s KILL "$t" >/dev/null 2>&1 || true
  done
fi
for c in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop "$c"; done
stop containerd
# kubelet's mounts (projected volumes, emptyDirs) would pin the pods' directories.
grep -o ' /var/lib/kubelet/[^ ]*' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
if [ "${1:-}" = "--purge" ]; then rm -rf "$STATE"; log "purged $STATE"; fi
log "cluster stopped"
