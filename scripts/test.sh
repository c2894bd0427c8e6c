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
(PATH="$PWD/.venv/bin:$PATH" jlpm typecheck)

echo "== extension is installed and enabled"
.venv/bin/jupyter server extension list 2>&1 | grep -E "jupyter_userpkg .*OK"
.venv/bin/jupyter labextension list 2>&1 | grep -E "jupyter-userpkg .*enabled.*OK"

echo "== pytest"
set +e
.venv/bin/python -m pytest tests -p no:cacheprovider -ra "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: failing" >&2
    exit 1
fi
exit "$status"
