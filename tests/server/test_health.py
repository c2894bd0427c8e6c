"""The server extension, loaded by a real Jupyter server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_userpkg.core.service import UserPkgService


async def test_health(jp_fetch: Any) -> None:
    response = await jp_fetch("userpkg", "api", "health")
    assert response.code == 200
    body = json.loads(response.body)
    assert body["status"] == "ok" and body["envs"] == 0
    from jupyter_userpkg import __version__

    assert body["version"] == __version__


async def test_envs_lists_what_the_cli_made(jp_fetch: Any, tmp_path: Path) -> None:
    from jupyter_userpkg.core.service import UserPkgService

    UserPkgService(tmp_path / "envs").create("made", kind="venv", kernel=False)
    response = await jp_fetch("userpkg", "api", "envs")
    envs = json.loads(response.body)
    assert [(e["name"], e["kind"], e["revision"]) for e in envs] == [("made", "venv", 0)]


async def test_envs_shows_a_commit_another_process_made_after_a_listing(
    jp_fetch: Any, tmp_path: Path
) -> None:
    """The server keeps what it listed (and the JSON it sent) only while no env changed."""
    from tests.core.test_listing import commit_elsewhere

    envs = tmp_path / "envs"
    commit_elsewhere(envs, "a", 0, 1)
    for _ in range(2):
        listed = json.loads((await jp_fetch("userpkg", "api", "envs")).body)
        assert [(e["name"], e["revision"], e["packages"]) for e in listed] == [("a", 0, 1)]
    commit_elsewhere(envs, "a", 1, 4)
    listed = json.loads((await jp_fetch("userpkg", "api", "envs")).body)
    assert [(e["name"], e["revision"], e["packages"]) for e in listed] == [("a", 1, 4)]


async def test_requires_authentication(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("userpkg", "api", "health", headers={"Authorization": "token wrong"})
    assert err.value.code == 403


async def test_new_kernelspec_is_listed_without_restart(
    jp_fetch: Any, tmp_path: Path, jp_data_dir: Path
) -> None:
    before = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert "userpkg-late" not in before
    svc = UserPkgService(tmp_path / "envs", kernels_dir=jp_data_dir / "kernels")
    svc.create("late", kind="layer")
    after = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert after["userpkg-late"]["spec"]["display_name"] == "Python 3 (late)"
