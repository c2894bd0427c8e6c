#!/usr/bin/env bash
# Set up a venv with jupyter-userpkg (server extension, lab extension, CLI) and
# start JupyterLab with it.  Extra arguments go to `jupyter lab`.
source "$(dirname "$0")/_venv.sh" lab
exec .venv/bin/jupyter lab "$@"
