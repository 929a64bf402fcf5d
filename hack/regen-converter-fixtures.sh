#!/usr/bin/env bash
# Regenerate tests/fixtures/definitions/converter/*.yaml from the Python DAGs in its src/, and
# examples/*/dag/*.yaml from the DAG next to each, with the MWAA converter (python-to-yaml-dag-converter-mwaa-serverless). The converter pins Airflow 3.0.6
# and its own dependencies, so it gets a venv of its own, outside the project's .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${CONVERTER_VENV:-/tmp/venv-converter}
[ -x "$venv/bin/dag-converter" ] || {
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q python-to-yaml-dag-converter-mwaa-serverless==0.1.4
}
out=tests/fixtures/definitions/converter
# PYTHONHASHSEED: the converter writes each task's dependencies from a set; a fixed seed keeps
# the order (and so the diff after a regeneration) stable.
home=$(mktemp -d); trap 'rm -rf "$home"' EXIT
export AIRFLOW_HOME=$home SCARF_NO_ANALYTICS=True AIRFLOW__CORE__LOAD_EXAMPLES=False PYTHONHASHSEED=0
for py in "$out"/src/*.py; do
  "$venv/bin/dag-converter" convert "$py" --output "$out/" >/dev/null
done
for py in examples/*/dag/*.py; do
  "$venv/bin/dag-converter" convert "$py" --output "$(dirname "$py")/" >/dev/null
done
ls "$out"/*.yaml examples/*/dag/*.yaml
