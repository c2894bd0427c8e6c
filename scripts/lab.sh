#!/usr/bin/env bash
# Set up a venv with jupyter-userpkg (server extension, lab extension, CLI) and
# start JupyterLab with it.  Extra arguments go to `jupyter lab`.  The install
# runs again only when the project's dependency files change.
USERPKG_INSTALL_ONCE=1 source "$(dirname "$0")/_venv.sh" lab
args=()
if [ "$(id -u)" = 0 ]; then
    # Containers often run as root; Jupyter refuses that unless told.
    echo "running as root: starting JupyterLab with --allow-root"
    args+=(--allow-root)
fi
exec .venv/bin/jupyter lab "${args[@]}" "$@"
