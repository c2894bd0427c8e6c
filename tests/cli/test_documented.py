"""Behaviour the user guide documents, through the real command: prompts, offline, recovery."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time

import pytest

from tests.conftest import CLI, installed

pytestmark = pytest.mark.slow


def _on_a_terminal(cli: CLI, args: list[str], answer: str) -> tuple[int, str]:
    """Run the CLI with a real terminal as its stdin/stdout/stderr; answer its question."""
    main, tty = pty.openpty()
    proc = subprocess.Popen(
        cli.argv(*args), env=cli.env(), stdin=tty, stdout=tty, stderr=tty, close_fds=True
    )
    os.close(tty)
    seen, answered = b"", False
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"Proceed ([y]/n)?" in seen:
                os.write(main, answer.encode() + b"\n")
                answered = True
        elif proc.poll() is not None:
            break
    os.close(main)
    return proc.wait(timeout=60), seen.decode(errors="replace")


def test_a_terminal_is_asked_and_no_changes_nothing(cli: CLI) -> None:
    cli("create", "t", "--kind", "venv", "--no-kernel")
    code, said = _on_a_terminal(cli, ["install", "-n", "t", "six"], "n")
    assert "Proceed ([y]/n)?" in said and "+ six" in said
    assert code == 1 and "cancelled; nothing was changed" in said
    assert installed(cli.envs_dir, "t") == {}
    assert [r["revision"] for r in cli.json("history", "-n", "t")] == [0]  # type: ignore[union-attr, index]
    code, said = _on_a_terminal(cli, ["install", "-n", "t", "six"], "")  # Enter: yes
    assert code == 0 and "Done: revision 1." in said
    assert "six" in installed(cli.envs_dir, "t")
    # -y applies without asking, on a terminal too.
    code, said = _on_a_terminal(cli, ["remove", "-n", "t", "six", "-y"], "n")
    assert code == 0 and "Proceed" not in said and "Done: revision 2." in said


def test_offline_installs_from_the_cache_or_says_what_is_missing(cli: CLI) -> None:
    cli("create", "on", "--kind", "venv", "--no-kernel", "six")  # fills the cache
    config = cli.home / "config" / "jupyter_userpkg_config.json"
    settings = json.loads(config.read_text())
    settings["UserPkg"]["offline"] = True
    config.write_text(json.dumps(settings))
    cli("create", "off", "--kind", "venv", "--no-kernel", "six")
    assert "six" in installed(cli.envs_dir, "off")
    proc = cli("install", "-n", "off", "userpkg-not-on-any-index-xyz", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr == (
        "jupyter userpkg: error: working offline, and the package cache does not hold "
        "userpkg-not-on-any-index-xyz; connect to the network once, or turn offline mode off\n"
    )


def test_a_delete_killed_after_its_rename_is_finished_by_the_next_command(cli: CLI) -> None:
    """A killed delete leaves the env in .trash (gone for every reader); the next command
    that sweeps finishes the removal."""
    cli("create", "gone", "--kind", "venv", "--no-kernel")
    trash = cli.envs_dir / ".trash"
    trash.mkdir()
    (cli.envs_dir / "gone").rename(trash / "gone-0badc0de")  # where the kill left it
    assert cli.json("envs") == []
    cli("doctor")
    assert not any(trash.iterdir())
    cli("create", "gone", "--kind", "venv", "--no-kernel")  # the name is free again


def test_doctor_finishes_a_change_killed_after_its_commit(cli: CLI) -> None:
    """A journal whose revision is committed: the change is complete, only the journal goes."""
    cli("create", "k", "--kind", "venv", "--no-kernel")
    txn = cli.envs_dir / "k" / ".userpkg" / "txn"
    (txn / "backup").mkdir(parents=True)
    (txn / "tree.txt").write_text("")
    (txn / "backups.txt").write_text("")
    (txn / "journal.json").write_text(json.dumps({"to_revision": 0, "command": "install x"}))
    (report,) = cli.json("doctor", "-n", "k")  # type: ignore[misc]
    assert report["recovered"] == "completed the interrupted change to revision 0"
    assert report["ok"] and not txn.exists()
