"""Fault injection: SIGKILL a change at a random moment; the env must end up at
exactly the old or exactly the new revision once the next command has run."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from tests.conda_channel import TestChannel
from tests.conftest import CLI, env_state, installed

pytestmark = pytest.mark.slow

RUNS = 24


def _kill_after(cli: CLI, delay: float, *args: str, armed: Path | None = None) -> bool:
    """Start the CLI, SIGKILL it ``delay`` s later; True if it was still running.

    With ``armed`` (the env's journal), ``delay`` counts from when that file appears, so
    the kill lands inside the change itself rather than while it is still being planned.
    """
    proc = cli.popen(*args)
    while armed is not None and not armed.exists():
        if proc.poll() is not None:
            proc.communicate()
            return False
        time.sleep(0.001)
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            proc.communicate()
            return False
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    return proc.returncode == -signal.SIGKILL


def _timed(cli: CLI, *args: str) -> float:
    start = time.monotonic()
    cli(*args)
    return time.monotonic() - start


@pytest.mark.parametrize("kind", ["venv", "layer"])
def test_sigkill_install_and_rollback_at_random_moments(cli: CLI, kind: str) -> None:
    cli("create", "f", "--kind", kind, "--no-kernel", "tabulate<0.10")
    _fault_runs(cli, ("install", "-n", "f", "docutils", "tabulate>=0.10", "python-slugify"))


def test_sigkill_conda_install_and_rollback_at_random_moments(
    cli: CLI, conda_channel: TestChannel
) -> None:
    cli(
        "create",
        "f",
        "--kind",
        "conda",
        "--no-kernel",
        "-c",
        conda_channel.url,
        "python",
        "bar 1.*",
        "pyfoo==0.1",
    )
    # Relinks a .tar.bz2 package as a .conda one (libfoo 1 -> 2), rewrites prefix
    # placeholders, moves a noarch Python package, adds one.
    _fault_runs(cli, ("install", "-n", "f", "bar>=2", "pyfoo==0.2", "pinme"))


def test_sigkill_pypi_layer_of_a_conda_env_at_random_moments(
    cli: CLI, conda_channel: TestChannel
) -> None:
    cli("create", "f", "--kind", "conda", "--no-kernel", "-c", conda_channel.url, "python", "six")
    cli("install", "-n", "f", "--pypi", "tabulate<0.10")
    # uv installs and uninstalls beside conda's own Python packages (six stays conda's).
    _fault_runs(
        cli, ("install", "-n", "f", "--pypi", "docutils", "tabulate>=0.10", "python-dateutil"), "1"
    )


def _fault_runs(cli: CLI, change: tuple[str, ...], base: str = "0") -> None:
    """Kill ``change`` (and rollbacks to revision ``base``) at random moments."""
    rng = random.Random(int(os.environ.get("USERPKG_FAULT_SEED", "20261125")))
    old_state = env_state(cli.envs_dir, "f")
    # One full change to learn the new state and how long a change takes.
    duration = _timed(cli, *change)
    new_state = env_state(cli.envs_dir, "f")
    new_dists = installed(cli.envs_dir, "f")
    cli("rollback", "-n", "f", base)
    # A rollback records a revision; compare installed files, not the history.
    files = lambda state: {k: v for k, v in state.items() if not k.startswith(".userpkg")}  # noqa: E731
    assert files(env_state(cli.envs_dir, "f")) == files(old_state)

    journal = cli.envs_dir / "f" / ".userpkg" / "txn" / "journal.json"
    killed = outcomes_old = outcomes_new = mid_change = 0
    for i in range(RUNS):
        at_old = files(env_state(cli.envs_dir, "f")) == files(old_state)
        args = change if at_old else ("rollback", "-n", "f", base)
        delay = rng.uniform(0.0, duration * 1.5)
        if i % 2:  # every other run: counted from the moment the journal is armed
            delay = 0.0 if i == 1 else delay / 10
            killed += _kill_after(cli, delay, *args, armed=journal)
        else:
            killed += _kill_after(cli, delay, *args)
        # The next command touching the env recovers it (doctor here).
        report = cli.json("doctor", "-n", "f")
        assert report[0]["ok"], report  # type: ignore[index]
        mid_change += report[0]["recovered"] is not None  # type: ignore[index]
        state = files(env_state(cli.envs_dir, "f"))
        assert state in (files(old_state), files(new_state)), f"run {i}: a half state"
        if state == files(new_state):
            outcomes_new += 1
            assert installed(cli.envs_dir, "f") == new_dists
        else:
            outcomes_old += 1
        # The lock of the current revision describes exactly what is installed.
        history = cli.json("history", "-n", "f")
        assert [r["revision"] for r in history] == list(range(len(history)))  # type: ignore[union-attr, index]
        assert not (cli.envs_dir / "f" / ".userpkg" / "txn").exists()
    assert killed >= RUNS // 3, f"only {killed} of {RUNS} runs were killed mid-way"
    # Some kill landed inside the change itself (its journal armed): doctor finished it.
    assert mid_change, f"none of {killed} kills landed between the journal and its drop"
    # Early kills always leave the old revision; how many runs finish first
    # depends on the machine's load, so only the old outcome is certain.
    assert outcomes_old, (outcomes_old, outcomes_new)


def test_sigkill_during_create_leaves_no_env(cli: CLI) -> None:
    rng = random.Random(7)
    killed = 0
    for _ in range(4):
        killed += _kill_after(
            cli, rng.uniform(0.05, 0.6), "create", "c", "--kind", "venv", "--no-kernel", "tabulate"
        )
        names = [e["name"] for e in cli.json("envs")]  # type: ignore[union-attr, index]
        if names:
            assert names == ["c"]
            assert set(installed(cli.envs_dir, "c")) == {"tabulate"}
            cli("delete", "c")
        else:
            # The debris of the unfinished create does not block a new one.
            cli("create", "c", "--kind", "venv", "--no-kernel")
            cli("delete", "c")
    assert killed, "no create was killed mid-way: the test proved nothing"
