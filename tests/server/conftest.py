"""A real Jupyter server with the extension enabled, over an isolated envs dir."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.localindex import LocalIndex, build_wheel

FINISHED = ("succeeded", "failed", "cancelled")


@pytest.fixture
def userpkg_settings(tmp_path: Path, conda_caches: Path) -> dict[str, Any]:
    """The extension's settings; tests add to them before the server starts."""
    return {
        "envs_dir": str(tmp_path / "envs"),
        "conda_pkgs_dir": str(conda_caches / "pkgs"),
        "repodata_cache_dir": str(conda_caches / "repodata"),
        "default_channels": [],
        "watch_interval": 0.2,
    }


@pytest.fixture
def jp_server_config(userpkg_settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_userpkg": True}},
        "UserPkg": userpkg_settings,
    }


class Api:
    """The REST API as a client sees it: status and JSON, errors included."""

    def __init__(self, fetch: Any) -> None:
        self.fetch = fetch

    async def __call__(
        self,
        method: str,
        *path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method, "raise_error": False}
        if body is not None:
            kwargs["body"] = body if isinstance(body, str | bytes) else json.dumps(body)
        elif method == "POST":
            kwargs["body"] = "{}"
        if params:
            kwargs["params"] = params
        if headers:
            kwargs["headers"] = headers
        response = await self.fetch("userpkg", "api", *path, **kwargs)
        text = response.body.decode() if response.body else ""
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = text
        return response.code, data

    async def job(self, method: str, *path: str, body: Any = None) -> dict[str, Any]:
        """Start a job (202) and return it."""
        code, job = await self(method, *path, body=body)
        assert code == 202, job
        return job

    async def wait(self, job: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
        """Poll ``GET jobs/{id}`` until the job ends."""
        for _ in range(int(timeout * 10)):
            code, job = await self("GET", "jobs", job["id"])
            assert code == 200
            if job["state"] in FINISHED:
                return job
            await asyncio.sleep(0.1)
        raise AssertionError(f"job {job['id']} did not finish: {job}")

    async def run(self, method: str, *path: str, body: Any = None) -> dict[str, Any]:
        """Start a job and wait for it to succeed."""
        job = await self.wait(await self.job(method, *path, body=body))
        assert job["state"] == "succeeded", job["error"]
        return job


@pytest.fixture
def api(jp_fetch: Any) -> Api:
    return Api(jp_fetch)


@pytest.fixture
def local_index(tmp_path: Path) -> Any:
    """A loopback index with ``slowpkg`` (a large wheel) and ``tinypkg`` 1.0 and 2.0."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "slowpkg", "1.0", padding=4_000_000)
    build_wheel(wheels, "tinypkg", "1.0")
    build_wheel(wheels, "tinypkg", "2.0")
    with LocalIndex(wheels) as index:
        yield index


@pytest.fixture
def indexed_settings(
    userpkg_settings: dict[str, Any], local_index: LocalIndex, tmp_path: Path
) -> dict[str, Any]:
    """Settings for a server whose only index is the loopback one (and a cache of its own)."""
    userpkg_settings.update(default_index=local_index.url, uv_cache_dir=str(tmp_path / "uv-cache"))
    return userpkg_settings


class EventLog:
    """Events the server emitted on Jupyter's event bus, as the panel receives them."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def listener(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        self.events.append((schema_id, dict(data)))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [data for schema, data in self.events if f"jupyter_userpkg/{kind}/" in schema]

    async def until(self, predicate: Any, timeout: float = 15) -> dict[str, Any]:
        for _ in range(int(timeout * 20)):
            for _schema, data in self.events:
                if predicate(data):
                    return data
            await asyncio.sleep(0.05)
        raise AssertionError(f"no such event among {self.events}")


@pytest.fixture
def event_log(jp_serverapp: Any) -> EventLog:
    from jupyter_userpkg.server.app import ENV_EVENT, JOB_EVENT

    log = EventLog()
    for schema in (JOB_EVENT, ENV_EVENT):
        jp_serverapp.event_logger.add_listener(schema_id=schema, listener=log.listener)
    return log
