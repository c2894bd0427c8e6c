"""The administrator's mirror over REST, as the panel meets it: a plan of a package the
mirror lacks answers 404 ``not_in_mirror`` with the help the policy sets, a change fails
as a job with that error, the env stays as it was, both are audited; search answers
from the mirror's search index with ``in_mirror``.  A real Jupyter server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.core.mirror.searchindex import FILENAME, Entry, render
from tests.localindex import LocalIndex
from tests.server.conftest import Api

HELP = "ask for it at https://help.example.org/packages"


@pytest.fixture
def jp_server_config(
    indexed_settings: dict[str, Any],
    local_index: LocalIndex,
    admin_policy: Callable[..., Path],
    tmp_path: Path,
) -> dict[str, Any]:
    index_file = tmp_path / "mirror" / FILENAME
    index_file.parent.mkdir()
    entries = [Entry("tinypkg", "pypi", "tinypkg", ("1.0", "2.0"), "A tiny package")]
    index_file.write_text(render(entries))
    admin_policy(
        {
            "indexes": [local_index.url],
            "mirror": True,
            "mirror_request_help": HELP,
            "search_index": str(index_file),
        }
    )
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_userpkg": True}},
        "UserPkg": indexed_settings,
    }


async def test_what_the_mirror_lacks_over_rest(api: Api, indexed_settings: dict[str, Any]) -> None:
    await api.run("POST", "envs", body={"name": "r", "kind": "venv", "kernel": False})
    code, refused = await api("POST", "envs", "r", "plan", body={"install": ["mirrnone"]})
    assert code == 404 and refused["code"] == "not_in_mirror"
    assert refused["packages"] == ["mirrnone"] and refused["help"] == HELP
    assert "mirrnone is not in the administrator's package mirror" in refused["message"]
    job = await api.wait(
        await api.job("POST", "envs", "r", "transactions", body={"install": ["tinypkg==9.0"]})
    )
    assert job["state"] == "failed" and job["error"]["code"] == "not_in_mirror"
    assert "the version of tinypkg this needs is not in" in job["error"]["message"]
    code, history = await api("GET", "envs", "r", "history")
    assert len(history) == 1  # only the create: the refusals left no revision
    code, found = await api("GET", "search", params={"q": "tiny", "source": "pypi"})
    assert code == 200
    assert [(h["name"], h["version"], h["summary"], h["in_mirror"]) for h in found["results"]] == [
        ("tinypkg", "2.0", "A tiny package", True)
    ]
    log = Path(indexed_settings["envs_dir"]) / ".audit.jsonl"
    refusals = [r for r in map(json.loads, log.read_text().splitlines()) if r.get("refused")]
    assert [(r["command"], r["code"], r["dry_run"]) for r in refusals] == [
        ("install mirrnone", "not_in_mirror", True),
        ("install tinypkg==9.0", "not_in_mirror", False),
    ]
