"""A shared env over REST: listed as shared, readable, and every change refused in one line.

The administrator's shared envs dir is given to the running server's service (the
setting itself is read from an administrator's config dir, which a test in this
process must not write: tests/cli/test_shared_envs.py covers that with real users).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.core.service import UserPkgService
from jupyter_userpkg.core.shared import Shared
from tests.server.conftest import Api

pytestmark = pytest.mark.slow

REFUSED = "environment 'stack' is shared and read-only: the administrator changes it"


@pytest.fixture
def shared_dir(tmp_path: Path) -> Path:
    """A shared envs dir holding 'stack', an empty venv, made as the administrator would."""
    directory = tmp_path / "shared"
    UserPkgService(directory, kernels_dir=tmp_path / "shared-kernels").create(
        "stack", kind="venv", kernel=False
    )
    return directory


async def test_a_shared_env_is_listed_read_and_never_changed(
    jp_serverapp: Any, api: Api, shared_dir: Path, tmp_path: Path
) -> None:
    svc = jp_serverapp.web_app.settings["userpkg_service"]
    svc.shared = Shared((shared_dir,), tmp_path / "shared-kernels")

    code, envs = await api("GET", "envs")
    assert code == 200, envs
    assert [(e["name"], e["shared"]) for e in envs] == [("stack", True)]
    code, info = await api("GET", "envs", "stack")
    assert code == 200 and info["shared"] is True and info["path"] == str(shared_dir / "stack")
    assert (await api("GET", "envs", "stack", "packages"))[0] == 200
    assert (await api("GET", "envs", "stack", "history"))[0] == 200

    attempts = [
        ("POST", ("envs", "stack", "plan"), {"install": ["six"]}),
        ("POST", ("envs", "stack", "transactions"), {"install": ["six"]}),
        ("POST", ("envs", "stack", "transactions"), {"remove": ["six"]}),
        ("POST", ("envs", "stack", "rollback"), {"revision": 0}),
        ("DELETE", ("envs", "stack"), None),
    ]
    for method, path, body in attempts:
        code, error = await api(method, *path, body=body)
        assert code == 403, (path, body, error)
        assert error["code"] == "permission_denied" and REFUSED in error["message"], error

    # A create of that name is refused as the shared env's name (the job says why).
    job = await api.wait(await api.job("POST", "envs", body={"name": "stack", "kind": "venv"}))
    assert job["state"] == "failed" and job["error"]["code"] == "env_exists", job
    assert "is the name of a shared environment" in job["error"]["message"]
    assert sorted(p.name for p in shared_dir.iterdir() if not p.name.startswith(".")) == ["stack"]

    # A layer of the user's own over it, as `create mine --over stack` makes one.
    body = {"name": "mine", "over": "stack", "kernel": False}
    job = await api.wait(await api.job("POST", "envs", body=body))
    assert job["state"] == "succeeded", job
    code, mine = await api("GET", "envs", "mine")
    assert code == 200 and mine["over"] == "stack" and mine["shared"] is False, mine
    # Its kind and Python are the shared env's: a kind given with it is refused.
    body = {"name": "other", "over": "stack", "kind": "venv", "kernel": False}
    job = await api.wait(await api.job("POST", "envs", body=body))
    assert job["state"] == "failed" and "leave out --kind" in job["error"]["message"], job
