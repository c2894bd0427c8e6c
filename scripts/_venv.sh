# Sourced by lab.sh and test.sh: make .venv (with PYTHON, default python3) if
# missing and install this project into it, editable, with the extras given.
# With USERPKG_INSTALL_ONCE=1 (lab.sh), the install is skipped while the
# project's dependency files are unchanged since the last one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv .venv
fi
stamp=".venv/.userpkg-installed-$1"
wanted=$(cat pyproject.toml package.json yarn.lock | sha256sum | cut -d' ' -f1)
if [ "${USERPKG_INSTALL_ONCE:-0}" = 1 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    echo "jupyter-userpkg is installed in .venv (dependencies unchanged)"
else
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[$1]"
    # The editable build runs `jlpm install` only when the lab extension is out of
    # date; the tests also need package.json's Node tools (configurable-http-proxy).
    out=$(PATH="$PWD/.venv/bin:$PATH" jlpm install 2>&1) || { echo "$out" >&2; exit 1; }
    echo "$wanted" > "$stamp"
fi
