"""Two writers, two processes, one env: serialised, both land, history coherent."""

from __future__ import annotations

import json

import pytest

from tests.conda_channel import TestChannel
from tests.conftest import CLI, installed

pytestmark = pytest.mark.slow


def test_two_concurrent_installs(cli: CLI) -> None:
    cli("create", "c", "--kind", "venv", "--no-kernel")
    a = cli.popen("install", "-n", "c", "python-slugify", "--json")
    b = cli.popen("install", "-n", "c", "tabulate", "--json")
    _, err_a = a.communicate(timeout=600)
    _, err_b = b.communicate(timeout=600)
    assert a.returncode == 0, err_a
    assert b.returncode == 0, err_b
    assert set(installed(cli.envs_dir, "c")) == {"python-slugify", "text-unidecode", "tabulate"}
    history = cli.json("history", "-n", "c")
    assert [r["revision"] for r in history] == [0, 1, 2]  # type: ignore[union-attr, index]
    commands = sorted(r["command"] for r in history[1:])  # type: ignore[index]
    assert commands == ["install python-slugify", "install tabulate"]
    # Each revision's changes are exactly what that command added.
    added = {r["command"]: {c["name"] for c in r["changes"]} for r in history[1:]}  # type: ignore[index]
    assert added == {
        "install python-slugify": {"python-slugify", "text-unidecode"},
        "install tabulate": {"tabulate"},
    }
    assert cli.json("doctor", "-n", "c")[0]["ok"]  # type: ignore[index]


def test_busy_env_gives_env_busy(cli: CLI, envs_dir: object) -> None:
    from filelock import FileLock

    cli("create", "b", "--kind", "venv", "--no-kernel")
    lock = FileLock(str(cli.envs_dir / ".locks" / "b.lock"))
    with lock:
        cfg = cli.home / "config"
        cfg.mkdir(parents=True, exist_ok=True)
        (cfg / "jupyter_userpkg_config.json").write_text('{"UserPkg": {"lock_timeout": 0.5}}')
        proc = cli("install", "-n", "b", "tabulate", check=False)
        # A dry run is a reader: it plans from the committed revision, without waiting.
        preview = cli("install", "-n", "b", "tabulate", "--dry-run", "--json")
    assert proc.returncode == 3
    assert "environment 'b' is busy" in proc.stderr
    assert installed(cli.envs_dir, "b") == {}
    plan = json.loads(preview.stdout)["plan"]
    assert [c["name"] for c in plan["changes"]] == ["tabulate"] and plan["from_revision"] == 0


def test_two_concurrent_conda_installs(cli: CLI, conda_channel: TestChannel) -> None:
    cli("create", "cc", "--kind", "conda", "-c", conda_channel.url, "--no-kernel", "python")
    a = cli.popen("install", "-n", "cc", "bar 1.*", "--json")
    b = cli.popen("install", "-n", "cc", "--pypi", "tabulate", "--json")
    _, err_a = a.communicate(timeout=600)
    _, err_b = b.communicate(timeout=600)
    assert a.returncode == 0, err_a
    assert b.returncode == 0, err_b
    history = cli.json("history", "-n", "cc")
    assert [r["revision"] for r in history] == [0, 1, 2]  # type: ignore[union-attr, index]
    added = {r["command"]: {c["name"] for c in r["changes"]} for r in history[1:]}  # type: ignore[index]
    assert added == {"install bar 1.*": {"bar", "libfoo"}, "install tabulate --pypi": {"tabulate"}}
    pkgs = {p["name"]: p["source"] for p in cli.json("list", "-n", "cc")}  # type: ignore[attr-defined, union-attr]
    assert pkgs["bar"] == "conda" and pkgs["tabulate"] == "pypi"
    assert cli.json("doctor", "-n", "cc")[0]["ok"]  # type: ignore[index]
