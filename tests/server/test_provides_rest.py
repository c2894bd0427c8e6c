"""``GET provides?name=X&env=ENV`` on a real server, held to openapi.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.localindex import LocalIndex, build_wheel
from tests.server.test_openapi import API, Checker


@pytest.fixture
def slugify_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    wheels = tmp_path_factory.mktemp("rest-provides-wheels")
    build_wheel(wheels, "python-slugify", "8.0.4", modules=["slugify"])
    build_wheel(wheels, "slugify", "0.0.1", modules=["slugify_other"])
    with LocalIndex(wheels) as index:
        yield index


@pytest.fixture
def jp_server_config(
    userpkg_settings: dict[str, Any], slugify_index: LocalIndex, tmp_path: Path
) -> dict[str, Any]:
    userpkg_settings.update(
        default_index=slugify_index.url, search_cache_dir=str(tmp_path / "search-cache")
    )
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_userpkg": True}},
        "UserPkg": userpkg_settings,
    }


async def test_provides_answers_as_documented(jp_fetch: Any) -> None:
    check = Checker(jp_fetch)
    path = API + "provides"
    _, found = await check("get", path, expect=200, params={"name": "No module named 'slugify'"})
    assert found["package"] == "python-slugify"
    assert found["evidence"]["kind"] == "record"
    assert found["install"] == "install -n default python-slugify"
    assert {c["name"]: c["verdict"] for c in found["candidates"]}["slugify"] == "rejected"
    _, none = await check("get", path, expect=200, params={"name": "nosuchmodule"})
    assert none["found"] is False and none["search"] == "nosuchmodule"
    _, error = await check("get", path, expect=400, params={})
    assert "name" in error["message"]
    await check("get", path, expect=400, params={"name": "a b/c"})
    await check("get", path, expect=404, params={"name": "slugify", "env": "nosuch"})
    assert not check.problems, check.problems
