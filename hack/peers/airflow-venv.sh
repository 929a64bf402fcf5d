#!/usr/bin/env bash
# Apache Airflow 3.0.6 with the KubernetesExecutor (apache-airflow-providers-cncf-kubernetes
# 10.7.0, the pin of Airflow's constraints-3.0.6) and the PostgreSQL provider, in a virtual
# environment of its own: the provider needs kubernetes_asyncio < 33, the operator's .venv pins 33.
# Resolved with the runner image's pins, so the host's Airflow is the task pods' Airflow; then the
# api-server's web stack goes back to Airflow 3.0.6's own pins (versions.env: AIRFLOW_SERVER_PINS).
# The environment's directory is the last line of output; a rerun is a no-op while the stamp matches.
set -euo pipefail
peers=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$peers/../.." && pwd)
# shellcheck source=versions.env
source "$peers/versions.env"
venv=${UPDRAFT_CACHE:-$HOME/.cache/updraft}/peers/airflow-venv
want="$AIRFLOW_VERSION/$AIRFLOW_K8S_PROVIDER/$AIRFLOW_SERVER_PINS/$(sha256sum "$top/runner-image/constraints.txt" | cut -c1-12)"
if [ -x "$venv/bin/airflow" ] && [ "$(cat "$venv/.stamp" 2>/dev/null)" = "$want" ]; then
  echo "$venv"
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install -q -c "$top/runner-image/constraints.txt" "apache-airflow==$AIRFLOW_VERSION" \
  apache-airflow-providers-amazon "apache-airflow-providers-cncf-kubernetes==$AIRFLOW_K8S_PROVIDER" \
  "apache-airflow-providers-postgres==$AIRFLOW_POSTGRES_PROVIDER"
# the host's api-server only (the task pods keep the runner's pins: they are the Execution API's client)
# shellcheck disable=SC2086
"$venv/bin/pip" install -q $AIRFLOW_SERVER_PINS
echo "$want" >"$venv/.stamp"
echo "$venv"
