#!/usr/bin/env bash
# Set up everything the tests need (a venv with the package, its lab extension
# and the test tools) and run every test and gate.  Exit status: non-zero on any
# failure, including "no tests collected".
source "$(dirname "$0")/_venv.sh" test

echo "== lint and types"
.venv/bin/ruff check jupyter_userpkg tests benchmarks
.venv/bin/ruff format --check jupyter_userpkg tests benchmarks
.venv/bin/mypy
.venv/bin/lint-imports  # layer rules: the contracts in pyproject.toml
.venv/bin/python scripts/sizes.py  # no module over 500 lines, no function over 80
(PATH="$PWD/.venv/bin:$PATH" jlpm typecheck)

echo "== panel unit tests (Jest)"
(PATH="$PWD/.venv/bin:$PATH" jlpm test)

echo "== extension is installed and enabled"
.venv/bin/jupyter server extension list 2>&1 | grep -E "jupyter_userpkg .*OK"
.venv/bin/jupyter labextension list 2>&1 | grep -E "jupyter-userpkg .*enabled.*OK"

echo "== pytest"
# The admin guide's nginx block for the filtered mirror is run in Debian's nginx.
if ! command -v nginx >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's nginx-light for the mirror's documented server block"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light
fi
set +e
.venv/bin/python -m pytest tests -p no:cacheprovider -ra "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: failing" >&2
    status=1
fi

echo "== browser tests (ui-tests: Galata and Debian's chromium)"
# Their own invocation: Playwright starts three Jupyter servers (ports 8888, 8889
# with a slow local index, and 8890 under an administrator's policy) and drives
# /usr/bin/chromium; snapshots are compared with
# ui-tests/tests/*-snapshots/ (`jlpm test:update` in ui-tests/ renews them and
# the user guide's docs/images/panel-*.png).
ui_status=0
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing Debian's chromium for the browser tests"
        DEBIAN_FRONTEND=noninteractive apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
    else
        echo "the browser tests need Debian's chromium at /usr/bin/chromium;" \
            "install it as root: apt-get update && apt-get install -y chromium" >&2
        ui_status=1
    fi
fi
if [ "$ui_status" -eq 0 ]; then
    set +e
    (
        set -e
        export PATH="$PWD/.venv/bin:$PATH" PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
        jlpm build  # the lab extension of this checkout, which the test servers load
        cd ui-tests
        jlpm install
        jlpm test
    )
    ui_status=$?
    set -e
fi
if [ "$ui_status" -ne 0 ]; then
    echo "browser tests failed (exit status $ui_status)" >&2
fi

if [ "$status" -ne 0 ]; then
    exit "$status"
fi
exit "$ui_status"
