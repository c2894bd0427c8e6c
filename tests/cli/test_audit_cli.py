"""The audit log through the real CLI: a spoofed name and a planted file change nothing.

(The core's cases, syslog included, are in tests/core/test_audit.py.)
"""

from __future__ import annotations

import json
import os
import pwd
from pathlib import Path

import pytest

from tests.conftest import CLI

pytestmark = pytest.mark.slow

ME = pwd.getpwuid(os.getuid()).pw_name
SPOOFED = "mallory-spoofed"
FOREIGN = b'{"user": "someone else", "action": "create"}\n'


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_cli_refuses_a_planted_log_and_never_takes_the_users_word(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: a spoofed LOGNAME and another name's pre-created file, in a shared dir."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    cli.configure(audit_log=str(shared / "{user}.jsonl"))
    monkeypatch.setenv("LOGNAME", SPOOFED)
    monkeypatch.setenv("USER", SPOOFED)
    # What the attacker did on main: pre-create the victim's file, open to all.
    planted = shared / f"{ME}.jsonl"
    planted.write_bytes(FOREIGN)
    os.chmod(planted, 0o666)
    done = cli("create", "a", "--kind", "venv", "--no-kernel", "-y")
    assert "warning: the change was made but not logged" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert planted.read_bytes() == FOREIGN
    assert not (shared / f"{SPOOFED}.jsonl").exists()
    doctor = cli("doctor", check=False)
    assert doctor.returncode != 0 and "audit log is refused" in doctor.stdout
    # Once the administrator removed it, the user's changes are logged under their uid.
    planted.unlink()
    result = cli.json("create", "b", "--kind", "venv", "--no-kernel", "-y")
    assert isinstance(result, dict) and result["notes"] == []
    log = records(shared / f"{ME}.jsonl")
    assert [(r["user"], r["env"]) for r in log] == [(ME, "b")]
    assert os.stat(shared / f"{ME}.jsonl").st_mode & 0o777 == 0o600
