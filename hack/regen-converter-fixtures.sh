#!/usr/bin/env bash
# Regenerate tests/fixtures/definitions/converter/*.yaml from the Python DAGs in its src/ with the
# MWAA converter (python-to-yaml-dag-converter-mwaa-serverless). The converter pins Airflow 3.0.6
# and its own dependencies, so it gets a venv of its own, outside the project's .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${CONVERTER_VENV:-$HOME/.cache/updraft/venv-converter}
[ -x "$venv/bin/dag-converter" ] || {
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q python-to-yaml-dag-converter-mwaa-serverless==0.1.4
}
out=tests/fixtures/definitions/converter
export AIRFLOW_HOME=$(mktemp -d) SCARF_NO_ANALYTICS=True AIRFLOW__CORE__LOAD_EXAMPLES=False
for py in "$out"/src/*.py; do
  "$venv/bin/dag-converter" convert "$py" --output "$out/" >/dev/null
done
ls "$out"/*.yaml
