"""The server is held to openapi.yaml: every documented route answers, and its
responses (success and error) match the documented schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from tornado.httpclient import HTTPClientError

import jupyter_userpkg
from jupyter_userpkg.core.options import CondaOptions
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import TestChannel

SPEC = yaml.safe_load(
    (Path(jupyter_userpkg.__file__).parent / "openapi.yaml").read_text(encoding="utf-8")
)


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema (``nullable`` becomes a null type)."""
    if isinstance(node, dict):
        out = {k: _json_schema(v) for k, v in node.items() if k not in ("nullable", "example")}
        if node.get("nullable") and "type" in node:
            out["type"] = [node["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        return out
    if isinstance(node, list):
        return [_json_schema(v) for v in node]
    return node


def _validate(instance: Any, schema: dict[str, Any]) -> None:
    full = {**_json_schema(schema), "components": _json_schema(SPEC["components"])}
    jsonschema.validate(instance, full)


def _get_routes() -> list[str]:
    return [path for path, ops in SPEC["paths"].items() if "get" in ops and "{" not in path]


def _schema_for(path: str, status: str) -> dict[str, Any]:
    response = SPEC["paths"][path]["get"]["responses"][status]
    if "$ref" in response:
        response = SPEC["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


@pytest.mark.parametrize("path", _get_routes())
async def test_documented_routes_answer_as_documented(
    jp_fetch: Any,
    tmp_path: Path,
    path: str,
    conda_channel: TestChannel,
    conda_options: CondaOptions,
) -> None:
    svc = UserPkgService(tmp_path / "envs", conda_options=conda_options)
    svc.create("made", kind="venv", kernel=False)
    svc.create("sci", kind="conda", channels=[conda_channel.url], specs=["bar"], kernel=False)
    response = await jp_fetch(*path.strip("/").split("/"))
    assert response.code == 200
    _validate(json.loads(response.body), _schema_for(path, "200"))


@pytest.mark.parametrize("path", _get_routes())
async def test_documented_errors(jp_fetch: Any, path: str) -> None:
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(*path.strip("/").split("/"), headers={"Authorization": "token wrong"})
    assert err.value.code == 403
    assert err.value.response is not None
    _validate(json.loads(err.value.response.body), _schema_for(path, "403"))


def test_every_served_route_is_documented() -> None:
    from jupyter_userpkg.server import handlers

    source = Path(handlers.__file__).read_text(encoding="utf-8")
    served = {
        "/userpkg/api/" + line.split('"')[1]
        for line in source.splitlines()
        if "url_path_join(base, " in line
    }
    assert served == set(SPEC["paths"])


def test_every_error_code_is_documented() -> None:
    """A code the core can raise is one the REST clients (and the panel) are told of."""
    from jupyter_userpkg.core import errors

    def codes(cls: type[errors.UserPkgError]) -> set[str]:
        return {cls.code}.union(*(codes(sub) for sub in cls.__subclasses__()))

    raised = codes(errors.UserPkgError) - {"error", "usage"}  # the base; the CLI's own
    documented = set(SPEC["components"]["schemas"]["Error"]["properties"]["code"]["enum"])
    assert raised == documented
