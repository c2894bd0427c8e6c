"""An administrator's source settings are policy too: a change to them alone (here
``audit_log``, which changes no rule) applies without a restart."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import Api


def write_admin_settings(directory: Path, **settings: Any) -> None:
    (directory / "jupyter_userpkg_config.json").write_text(json.dumps({"UserPkg": settings}))


@pytest.fixture
def admin_dir(admin_policy: Callable[..., Path]) -> Path:
    """``etc/jupyter`` of the environment this package is installed in: an administrator's."""
    return admin_policy()


@pytest.fixture
def jp_server_config(
    userpkg_settings: dict[str, Any], admin_dir: Path, tmp_path: Path
) -> dict[str, Any]:
    write_admin_settings(admin_dir, audit_log=str(tmp_path / "audit-one.jsonl"))
    userpkg_settings["policy_interval"] = 0.2
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_userpkg": True}},
        "UserPkg": userpkg_settings,
    }


def audited(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    return [(r["action"], r["env"]) for r in map(json.loads, path.read_text().splitlines())]


async def test_a_change_to_the_administrators_settings_alone_applies(
    jp_serverapp: Any, api: Api, admin_dir: Path, tmp_path: Path
) -> None:
    one, two = tmp_path / "audit-one.jsonl", tmp_path / "audit-two.jsonl"
    await api.run("POST", "envs", body={"name": "a", "kind": "venv", "kernel": False})
    assert audited(one) == [("create", "a")]
    _, before = await api("GET", "policy")
    settings = jp_serverapp.web_app.settings
    first = settings["userpkg_service"]
    write_admin_settings(admin_dir, audit_log=str(two))
    deadline = time.monotonic() + 30
    while settings["userpkg_service"] is first:
        assert time.monotonic() < deadline, "the administrator's settings were not read again"
        await asyncio.sleep(0.05)
    _, after = await api("GET", "policy")
    assert after == before  # no rule changed
    await api.run("POST", "envs", body={"name": "b", "kind": "venv", "kernel": False})
    assert audited(one) == [("create", "a")]
    assert audited(two) == [("create", "b")]
