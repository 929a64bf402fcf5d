#!/usr/bin/env bash
# Certificates and kubeconfigs of the local cluster, made with openssl: one CA, a serving
# certificate for the apiserver (and kubelet), client certificates per component, the
# service-account signing key. Existing files are kept, so reruns are no-ops.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mkdir -p "$PKI" "$CONF"
cd "$PKI"
ip=$(node_ip)

[ -f ca.key ] || {
  openssl genrsa -out ca.key 2048 2>/dev/null
  openssl req -x509 -new -key ca.key -days 3650 -subj "/CN=updraft-local-ca" -out ca.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
[ -f sa.key ] || { openssl genrsa -out sa.key 2048 2>/dev/null; openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null; }

# cert NAME CN O USAGE [SANS]
cert() {
  local name=$1 cn=$2 o=$3 usage=$4 sans=${5:-}
  [ -f "$name.crt" ] && return 0
  openssl genrsa -out "$name.key" 2048 2>/dev/null
  local subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o/CN=$cn"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [ -n "$sans" ] && echo "subjectAltName=$sans"
  } >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

cert apiserver kube-apiserver "" serverAuth \
  "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN,DNS:localhost,IP:127.0.0.1,IP:$ip,IP:$KUBERNETES_SVC_IP"
cert kubelet-serving "system:node:$NODE_NAME" system:nodes serverAuth "DNS:$NODE_NAME,DNS:localhost,IP:127.0.0.1,IP:$ip"
cert admin system:admin system:masters clientAuth
cert controller-manager system:kube-controller-manager "" clientAuth
cert scheduler system:kube-scheduler "" clientAuth
cert kubelet "system:node:$NODE_NAME" system:nodes clientAuth
cert kube-proxy system:kube-proxy "" clientAuth
cert apiserver-kubelet-client kube-apiserver "" clientAuth

kubeconfig() { # NAME CERT
  local out=$1 c=$2
  [ -f "$out" ] && return 0
  cat >"$out" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: updraft-local
  cluster:
    server: https://$ip:6443
    certificate-authority: $PKI/ca.crt
users:
- name: $c
  user:
    client-certificate: $PKI/$c.crt
    client-key: $PKI/$c.key
contexts:
- name: updraft-local
  context: {cluster: updraft-local, user: $c}
current-context: updraft-local
EOF
}
kubeconfig "$KUBECONFIG_ADMIN" admin
for c in controller-manager scheduler kubelet kube-proxy; do kubeconfig "$CONF/$c.kubeconfig" "$c"; done
