#!/usr/bin/env bash
# Set up a venv with jupyter-userpkg (server extension, lab extension, CLI) and
# start JupyterLab with it.  Extra arguments go to `jupyter lab`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e . "jupyterlab>=4.6.4,<5"
exec .venv/bin/jupyter lab "$@"
