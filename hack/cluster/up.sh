#!/usr/bin/env bash
# Start (or reuse) a single-node Kubernetes made of upstream components run as local processes,
# the way hack/local-up-cluster.sh does: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, containerd + kubelet, kube-proxy (iptables), kube-router's NetworkPolicy
# controller (iptables + ipset: policies are enforced, as on a real cluster) and CoreDNS as a pod.
# Like EKS, the apiserver accepts only its own audience: a task pod's web-identity token
# (audience sts.amazonaws.com) does not authenticate to Kubernetes.
# Idempotent: components already running are kept. Quiet unless something fails.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || die "the local cluster runs kubelet and containerd: run as root"

"$here/build-binaries.sh" >/dev/null
mkdir -p "$LOGS" "$RUN" "$CONF" "$STATE/etcd"
ip=$(node_ip)
[ -n "$ip" ] || die "no IPv4 default route: cannot pick the node IP"
# Certificates name the node IP; a machine with a new address gets a new PKI and a fresh etcd.
if [ -f "$STATE/node-ip" ] && [ "$(cat "$STATE/node-ip")" != "$ip" ]; then
  log "node IP changed ($(cat "$STATE/node-ip") -> $ip): new certificates and a fresh cluster"
  "$here/down.sh"
  rm -rf "$PKI" "$CONF" "$STATE/etcd" "$KUBECONFIG_ADMIN"
  mkdir -p "$CONF" "$STATE/etcd"
fi
echo "$ip" >"$STATE/node-ip"
"$here/certs.sh"

# --- host preparation (what kind's entrypoint and k3s do; no kernel modules to load here) ---
sysctl -qw net.ipv4.ip_forward=1
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && sysctl -qw net.bridge.bridge-nf-call-iptables=1
mount --make-rshared / 2>/dev/null || true
mkdir -p /var/lib/kubelet /var/log/pods /etc/cni/net.d

# --- containerd with the CRI plugin; our own config so the sandbox image is ours ---
cni_conf_dir="$STATE/cni"
mkdir -p "$cni_conf_dir"
write_conf "$cni_conf_dir/10-updraft-bridge.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "updraft",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "${POD_CIDR%/16}/24"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
EOF
# A sandbox without CAP_SYS_RESOURCE cannot lower oom_score_adj: route runc through a shim.
runc_binary=runc
sh -c 'echo -1 >/proc/self/oom_score_adj' 2>/dev/null || runc_binary="$here/runc-no-oom-adj.sh"
write_conf "$CONF/containerd.toml" <<EOF
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$cni_conf_dir"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$runc_binary"
EOF
if ! ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; then
  start containerd containerd --config "$CONF/containerd.toml"
  wait_for containerd 30 ctr --address "$CONTAINERD_SOCK" version
elif ! pid_alive containerd; then
  log "reusing a containerd we did not start: its CRI config must match $CONF/containerd.toml"
fi

# --- the cluster's own images: pause, CoreDNS, a busybox probe ---
"$here/system-images.sh"

# --- etcd ---
start etcd "$BIN/etcd" --name updraft --data-dir "$STATE/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster updraft=http://127.0.0.1:2380 --log-level warn --quota-backend-bytes 4294967296
wait_for etcd 30 curl -sf http://127.0.0.1:2379/health

# --- kube-apiserver ---
# The audit log: the fault suite's oracle of duplicates (tests/chaos: pod creations counted by
# name and UID from here, never from a final listing). Only what it needs: pod creates with their
# response (the new pod's UID), Secret creates and pod deletes and evictions by name (Metadata: a
# Secret's data is never logged). Rotated at 50 MB, two old files kept.
write_conf "$CONF/audit-policy.yaml" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: RequestResponse
  verbs: [create]
  resources: [{group: "", resources: [pods]}]
- level: Metadata
  verbs: [create]
  resources: [{group: "", resources: [secrets, pods/eviction]}]
- level: Metadata
  verbs: [delete, deletecollection]
  resources: [{group: "", resources: [pods]}]
- level: None
EOF
# (a changed flag restarts an apiserver an older up.sh started: start_current)
start_current kube-apiserver "$BIN/kube-apiserver" \
  --advertise-address "$ip" --bind-address 0.0.0.0 --secure-port 6443 \
  --etcd-servers http://127.0.0.1:2379 --storage-backend etcd3 \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
  --client-ca-file "$PKI/ca.crt" \
  --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
  --kubelet-client-key "$PKI/apiserver-kubelet-client.key" --kubelet-certificate-authority "$PKI/ca.crt" \
  --kubelet-preferred-address-types InternalIP,Hostname \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --service-account-issuer https://kubernetes.default.svc.$CLUSTER_DOMAIN \
  --api-audiences https://kubernetes.default.svc.$CLUSTER_DOMAIN \
  --authorization-mode Node,RBAC --allow-privileged=true \
  --enable-admission-plugins NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultTolerationSeconds,Priority,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota,NodeRestriction,PodSecurity \
  --audit-policy-file "$CONF/audit-policy.yaml" --audit-log-path "$LOGS/audit.log" \
  --audit-log-format json --audit-log-maxsize 50 --audit-log-maxbackup 2 \
  --profiling=false --v=1
wait_for kube-apiserver 90 kubectl_admin get --raw /readyz
kubectl_admin get clusterrolebinding updraft:apiserver-kubelet >/dev/null 2>&1 ||
  kubectl_admin create clusterrolebinding updraft:apiserver-kubelet \
    --clusterrole system:kubelet-api-admin --user kube-apiserver >/dev/null

# --- controller-manager and scheduler ---
start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig "$CONF/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$CONF/controller-manager.kubeconfig" \
  --authorization-kubeconfig "$CONF/controller-manager.kubeconfig" \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --use-service-account-credentials --controllers '*' --leader-elect=false \
  --service-cluster-ip-range "$SERVICE_CIDR" --cluster-cidr "$POD_CIDR" --allocate-node-cidrs=false \
  --bind-address 127.0.0.1 --secure-port 10257 --v=1
write_conf "$CONF/scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection: {kubeconfig: $CONF/scheduler.kubeconfig}
leaderElection: {leaderElect: false}
EOF
start kube-scheduler "$BIN/kube-scheduler" --config "$CONF/scheduler.yaml" \
  --bind-address 127.0.0.1 --secure-port 10259 --v=1

# --- kubelet ---
write_conf "$CONF/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
failSwapOn: false
readOnlyPort: 0
address: $ip
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
clusterDomain: $CLUSTER_DOMAIN
clusterDNS: [$DNS_SVC_IP]
resolvConf: /etc/resolv.conf
imageGCHighThresholdPercent: 100
evictionHard: {nodefs.available: "0%", imagefs.available: "0%", memory.available: "100Mi"}
serializeImagePulls: false
maxPods: 110
EOF
start kubelet "$BIN/kubelet" --config "$CONF/kubelet.yaml" --kubeconfig "$CONF/kubelet.kubeconfig" \
  --hostname-override "$NODE_NAME" --node-ip "$ip" --root-dir /var/lib/kubelet --v=1
wait_for "node $NODE_NAME to register" 90 kubectl_admin get node "$NODE_NAME"

# --- kube-proxy ---
write_conf "$CONF/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $CONF/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
start kube-proxy "$BIN/kube-proxy" --config "$CONF/kube-proxy.yaml" --v=1

# --- NetworkPolicy: kube-router with its firewall controller only (no routing, proxy or CNI) ---
kube_router=$("$here/build-kube-router.sh")
command -v ipset >/dev/null || die "ipset not found (Debian package ipset): run make setup"
# the admin credentials: a single-node test cluster (a real install gives it a ServiceAccount)
start_current kube-router "$kube_router" --kubeconfig "$KUBECONFIG_ADMIN" --hostname-override "$NODE_NAME" \
  --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
  --enable-pod-egress=false --service-cluster-ip-range "$SERVICE_CIDR" --iptables-sync-period 1m \
  --health-port 20244 --metrics-port 0 --v=1
wait_for "kube-router's NetworkPolicy controller" 90 curl -sf http://127.0.0.1:20244/healthz

wait_for "node $NODE_NAME Ready" 120 \
  kubectl_admin wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s

# --- cluster DNS ---
sed -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|" -e "s|@DNS_SVC_IP@|$DNS_SVC_IP|" \
  -e "s|@CLUSTER_DOMAIN@|$CLUSTER_DOMAIN|" "$here/coredns.yaml" | kubectl_admin apply -f - >/dev/null
wait_for "CoreDNS available" 120 \
  kubectl_admin -n kube-system wait --for=condition=Available deploy/coredns --timeout=2s
# --- the AWS stand-in: moto (S3, STS) on the node IP; task pods reach it through AWS_ENDPOINT_URL ---
moto_server="$here/../../.venv/bin/moto_server"
[ -x "$moto_server" ] || die "moto_server not found at $moto_server: run make setup"
# its request recorder (tests read it back over HTTP) writes to a file: keep it in the state dir
MOTO_RECORDER_FILEPATH="$STATE/moto-recording" start moto "$moto_server" -H "$ip" -p "$MOTO_PORT"
wait_for "the moto server on $ip:$MOTO_PORT" 60 curl -sf -o /dev/null "http://$ip:$MOTO_PORT/moto-api/data.json"
log "cluster ready: KUBECONFIG=$KUBECONFIG_ADMIN (AWS stand-in: http://$ip:$MOTO_PORT)"
