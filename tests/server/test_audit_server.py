"""A record the server cannot write to the audit log: the job says so, and so does the
server's log; the change stands."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import Api

FOREIGN = b'{"user": "someone else", "action": "create"}\n'


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A log file pre-created open to all, as another user of a shared directory would."""
    path = tmp_path / "audit.jsonl"
    path.write_bytes(FOREIGN)
    os.chmod(path, 0o666)
    return path


@pytest.fixture
def jp_server_config(userpkg_settings: dict[str, Any], planted: Path) -> dict[str, Any]:
    userpkg_settings["audit_log"] = str(planted)
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_userpkg": True}},
        "UserPkg": userpkg_settings,
    }


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def test_a_refused_record_is_in_the_jobs_result_and_the_servers_log(
    jp_serverapp: Any, api: Api, planted: Path
) -> None:
    kept = Kept()
    jp_serverapp.log.addHandler(kept)
    try:
        job = await api.run("POST", "envs", body={"name": "a", "kind": "venv", "kernel": False})
    finally:
        jp_serverapp.log.removeHandler(kept)
    assert job["result"]["revision"] == 0
    (note,) = job["result"]["notes"]
    assert note.startswith("the change was made but not logged") and "mode 0666" in note
    assert any("not recorded in the audit log" in m and str(planted) in m for m in kept.messages)
    assert planted.read_bytes() == FOREIGN
