#!/usr/bin/env bash
# Install what a fresh Debian 12 machine lacks to build, run and test Updraft. Idempotent; quiet
# unless something fails. Debian packages (container runtime, image tools, Chromium for the
# console's browser test) and a Python venv at
# .venv with the project, its test tools and real Airflow (the [airflow] extra).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*" >&2; }

packages=(containerd runc containernetworking-plugins buildah skopeo iptables ipset conntrack
  debootstrap busybox-static file openssl socat gcc libc6-dev make git curl ca-certificates
  iproute2 procps util-linux
  postgresql  # Airflow's database in the peers benchmark (bench/peers; its set-up check runs in make test)
  chromium)  # the console's browser test drives it with Playwright (executable_path=/usr/bin/chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Updraft needs Python >= 3.11 ($python is $("$python" --version 2>&1))" >&2
  exit 1
fi
[ -x .venv/bin/python ] || { log "creating .venv"; "$python" -m venv .venv; }
stamp=.venv/.updraft-installed
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing the project into .venv (editable, with [dev,airflow])"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[dev,airflow]'
  echo "$want" >"$stamp"
fi
