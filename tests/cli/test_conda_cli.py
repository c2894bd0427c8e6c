"""Conda environments through the real `jupyter userpkg` command."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conda_channel import TestChannel
from tests.conftest import CLI, env_state

pytestmark = pytest.mark.slow


def test_conda_tour(cli: CLI, conda_channel: TestChannel) -> None:
    ch = conda_channel.url
    out = cli("create", "sci", "--kind", "conda", "-c", ch, "--no-kernel", "python", "bar=1").stdout
    assert re.search(r"\+ bar +1\.0 \(conda\)", out) and re.search(r"\+ libfoo +1\.0 \(conda", out)
    env = cli.json("envs")[0]  # type: ignore[index]
    assert (env["name"], env["kind"], env["packages"]) == ("sci", "conda", 3)
    plan = cli.json("install", "-n", "sci", "--dry-run", "bar>=2")
    changes = {(c["name"], c["old"], c["new"]) for c in plan["plan"]["changes"]}  # type: ignore[index]
    assert changes == {("bar", "1.0", "2.0"), ("libfoo", "1.0", "2.0")}
    assert cli.json("list", "-n", "sci")[0]["version"] == "1.0"  # type: ignore[index]
    cli("install", "-n", "sci", "bar>=2")
    pkgs = {p["name"]: p for p in cli.json("list", "-n", "sci")}  # type: ignore[attr-defined, union-attr]
    assert pkgs["bar"]["version"] == "2.0" and pkgs["libfoo"]["version"] == "2.0"
    assert pkgs["bar"]["source"] == "conda" and pkgs["bar"]["channel"] == ch
    cli("install", "-n", "sci", "--pypi", "tabulate")
    pkgs = {p["name"]: p for p in cli.json("list", "-n", "sci")}  # type: ignore[attr-defined, union-attr]
    assert pkgs["tabulate"]["source"] == "pypi" and pkgs["tabulate"]["requested"]
    cli("remove", "-n", "sci", "tabulate")  # found in the PyPI layer without --pypi
    history = cli.json("history", "-n", "sci")
    assert [r["command"] for r in history][1:] == [  # type: ignore[index]
        "install bar>=2",
        "install tabulate --pypi",
        "remove tabulate",
    ]
    cli("rollback", "-n", "sci", "0")
    pkgs = {p["name"]: p["version"] for p in cli.json("list", "-n", "sci")}  # type: ignore[attr-defined, union-attr]
    assert pkgs["bar"] == "1.0" and "tabulate" not in pkgs
    yml = cli("export", "-n", "sci", "--format", "environment").stdout
    assert "- bar=1.0=0" in yml and ch in yml
    assert cli.json("doctor", "-n", "sci")[0]["ok"]  # type: ignore[index]
    cli("delete", "sci")
    assert cli.json("envs") == []


def test_conda_errors_are_one_line(cli: CLI, conda_channel: TestChannel) -> None:
    cli("create", "e", "--kind", "conda", "-c", conda_channel.url, "--no-kernel", "bar")
    before = env_state(cli.envs_dir, "e")
    for args, words in (
        (("install", "-n", "e", "left", "right"), "cannot be installed together"),
        (("install", "-n", "e", "nothere"), "no package named 'nothere'"),
        (("install", "-n", "e", "bar >=1,<"), "not a valid conda package spec"),
        (("install", "-n", "e", "--pypi", "tabulate"), "PyPI packages need Python"),
    ):
        proc = cli(*args, check=False)
        assert proc.returncode == 1, proc.stderr
        assert words in proc.stderr
        assert "Traceback" not in proc.stderr and "panicked" not in proc.stderr
        assert proc.stderr.startswith("jupyter userpkg: error:")
    # The solver's explanation follows the one-line summary, trimmed.
    proc = cli("install", "-n", "e", "left", "right", check=False)
    assert "left 1.0 would require" in proc.stderr
    assert env_state(cli.envs_dir, "e") == before
    proc = cli("create", "x", "-c", conda_channel.url, "tabulate", check=False)
    assert "add --kind conda" in proc.stderr


def test_conda_commands_never_crash_at_exit(cli: CLI, conda_channel: TestChannel) -> None:
    """py-rattler's runtime can crash at interpreter exit: a command that used it never
    reaches the interpreter's teardown (where the crash would be), and its output and exit
    status are its own.  Shown once, for certain: an exit handler never runs."""
    cli("create", "x", "--kind", "conda", "-c", conda_channel.url, "--no-kernel", "pinme")
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('TEARDOWN', file=sys.stderr, flush=True))\n"
        "sys.argv = ['jupyter-userpkg', *sys.argv[1:]]\n"
        "from jupyter_userpkg.cli import run\n"
        "run()\n"
    )

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-c", code, *args]
        return subprocess.run(argv, env=cli.env(), capture_output=True, text=True, timeout=300)

    proc = command("install", "-n", "x", "--dry-run", "bar")
    assert proc.returncode == 0, (proc.returncode, proc.stderr)
    assert re.search(r"\+ bar +2\.0 \(conda\)", proc.stdout), proc.stdout
    assert "TEARDOWN" not in proc.stderr  # ended by os._exit, after its output was flushed
    proc = command("install", "-n", "x", "nothere")  # a failure keeps its own status
    assert proc.returncode == 1 and "no package named 'nothere'" in proc.stderr, proc.stderr
    assert "TEARDOWN" not in proc.stderr
    proc = command("envs")  # without the conda engine, the interpreter ends as usual
    assert proc.returncode == 0 and "TEARDOWN" in proc.stderr, proc.stderr


def test_a_conda_dry_run_loads_only_what_it_uses(cli: CLI, conda_channel: TestChannel) -> None:
    """A plan of a conda change starts fast: no PyPI, TOML-writing, YAML or lock library."""
    cli("create", "lean", "--kind", "conda", "--no-kernel", "-c", conda_channel.url, "bar 1.*")
    code = (
        "import json, os, sys\n"
        "from jupyter_userpkg.cli import main\n"
        "status = main(['install', '-n', 'lean', '--dry-run', 'bar 2.*'])\n"
        "print(json.dumps(sorted(m for m, v in sys.modules.items() if v)), file=sys.stderr)\n"
        "sys.stderr.flush(); sys.stdout.flush(); os._exit(status)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=cli.env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "~ bar" in proc.stdout
    loaded = json.loads(proc.stderr.strip().splitlines()[-1])
    heavy = ("packaging", "tomlkit", "yaml", "filelock", "httpx", "jupyter_userpkg.core.kinds.venv")
    assert [m for m in loaded if m.startswith(heavy)] == []
