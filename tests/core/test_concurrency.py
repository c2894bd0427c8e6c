"""Two writers, two processes, one env: serialised, both land, history coherent."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

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


def test_parallel_creates_respect_max_envs(cli: CLI, admin_policy: Callable[..., Path]) -> None:
    """8 creates at once under ``max_envs: 3``: exactly 3 envs, the others refused
    (the count and the claim are one step for all of them, not one per name)."""
    admin_policy({"max_envs": 3})
    procs = [cli.popen("create", f"m{i}", "--kind", "venv", "--no-kernel", "-y") for i in range(8)]
    errors = [p.communicate(timeout=600)[1] for p in procs]
    outcomes = [(p.returncode, err) for p, err in zip(procs, errors, strict=True)]
    made = sorted(p.name for p in cli.envs_dir.iterdir() if (p / ".userpkg").is_dir())
    assert len(made) == 3, outcomes
    refused = [err for code, err in outcomes if code != 0]
    assert len(refused) == 5, outcomes
    for err in refused:
        assert "the most the administrator's policy allows (max_envs: 3)" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    listed = cli.json("envs")
    assert isinstance(listed, list) and sorted(e["name"] for e in listed) == made
    assert not list((cli.envs_dir / ".locks").glob("*.creating"))


def test_a_running_create_counts_and_a_killed_ones_marker_does_not(tmp_path: Path) -> None:
    """A ``.creating`` marker counts while its create holds the name's lock; one whose
    lock is free was left by a killed create and takes no room for ever."""
    from jupyter_userpkg.core import envquota
    from jupyter_userpkg.core.errors import PolicyDenied
    from jupyter_userpkg.core.store import EnvStore
    from jupyter_userpkg.core.transaction import EnvLock

    store = EnvStore(tmp_path / "envs")
    store.creating_marker("killed").parent.mkdir(parents=True)
    store.creating_marker("killed").touch()
    with EnvLock(store.lock_path("Running"), "Running", 1):
        store.creating_marker("Running").touch()
        with pytest.raises(
            PolicyDenied, match=r"you have 1 environment \(1 being created\), the most"
        ):
            envquota.claim(store, "other", 1, 5)
        assert envquota.claim(store, "other", 2, 5) == store.creating_marker("other")
