"""The server is held to openapi.yaml: every served route is documented and every
documented route is served, and the answers of a real server (success and error,
JSON, files and event streams) match the documented statuses, media types,
headers and schemas."""

from __future__ import annotations

import asyncio
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from tornado.httpclient import HTTPClientError, HTTPResponse

import jupyter_userpkg
from jupyter_userpkg.core.importnames import canonical
from jupyter_userpkg.core.options import CondaOptions
from jupyter_userpkg.core.service import UserPkgService
from jupyter_userpkg.server.handlers import ROUTES
from tests.conda_channel import TestChannel
from tests.server.conftest import FINISHED

SPEC_PATH = Path(jupyter_userpkg.__file__).parent / "openapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
API = "/userpkg/api/"
METHODS = ("get", "post", "delete")


def served() -> set[tuple[str, str]]:
    """(method, documented path) of every handler method in the server's route table."""
    out = set()
    for pattern, handler in ROUTES:
        path = API + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
        out |= {(method, path) for method in METHODS if method in vars(handler)}
    return out


def documented() -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in SPEC["paths"].items()
        for method in METHODS
        if method in item
    }


SERVED = served()


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema (``nullable`` admits null; examples dropped)."""
    if isinstance(node, dict):
        out = {k: _json_schema(v) for k, v in node.items() if k not in ("nullable", "example")}
        if node.get("nullable"):
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_json_schema(v) for v in node]
    return node


COMPONENTS = _json_schema(SPEC["components"])


def _errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """Why ``instance`` does not match ``schema`` (an OpenAPI schema), if it does not."""
    full = {**_json_schema(schema), "components": COMPONENTS}
    validator = jsonschema.Draft7Validator(full, format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def _validate(instance: Any, schema: dict[str, Any]) -> None:
    problems = _errors(instance, schema)
    assert not problems, problems


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        node = SPEC["components"][kind][name]
    return node


def documented_response(method: str, path: str, status: int) -> dict[str, Any] | None:
    return (
        _resolve(response)
        if (response := SPEC["paths"][path][method]["responses"].get(str(status)))
        else None
    )


def parse_stream(text: str) -> list[dict[str, str]]:
    """Server-sent events as their fields (comments skipped)."""
    events = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
        )
        if fields:
            events.append(fields)
    return events


class Checker:
    """Sends requests and checks each answer against the spec, collecting every mismatch.

    Mismatches are collected rather than raised, so that one run reports all
    of them; a status a step needs in order to go on is asserted at once.
    """

    def __init__(self, fetch: Any) -> None:
        self.fetch = fetch
        self.problems: list[str] = []
        #: (method, path, status) of every answer checked.
        self.seen: set[tuple[str, str, int]] = set()

    async def __call__(
        self,
        method: str,
        path: str,
        *,
        expect: int,
        body: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        at: Mapping[str, str] | None = None,
    ) -> tuple[HTTPResponse, Any]:
        """``method path`` (a documented path, its parameters in ``at``); the answer."""
        url = path.removeprefix(API).format(**(at or {}))
        kwargs: dict[str, Any] = {"method": method.upper(), "raise_error": False}
        if method == "post":
            kwargs["body"] = json.dumps({} if body is None else body)
        response = await self.fetch(
            "userpkg", "api", *url.split("/"), params=params, headers=headers, **kwargs
        )
        assert response.code == expect, (method, url, response.code, response.body[:2000])
        data = self.check(method, path, response)
        return response, data

    def check(self, method: str, path: str, response: HTTPResponse) -> Any:
        """Check one answer; return its body, parsed as its media type says."""
        where = f"{method.upper()} {path} -> {response.code}"
        self.seen.add((method, path, response.code))
        documented = documented_response(method, path, response.code)
        if documented is None:
            self.problems.append(f"{where}: status not documented")
            return None
        for name in documented.get("headers", {}):
            if name not in response.headers:
                self.problems.append(f"{where}: no {name} header")
        content = documented.get("content")
        if not content:
            if response.body:
                self.problems.append(f"{where}: a body where none is documented")
            return None
        media = response.headers.get("Content-Type", "").split(";")[0].strip()
        if media not in content:
            self.problems.append(f"{where}: Content-Type {media!r}, documented {list(content)}")
            media = next(iter(content))
        text = response.body.decode()
        schema = content[media]["schema"]
        if media == "application/json":
            data: Any = json.loads(text)
        elif media == "application/yaml":
            data = yaml.safe_load(text)
        elif media == "application/toml":
            tomllib.loads(text)
            data = text
        elif media == "text/event-stream":
            data = parse_stream(text)
            self._check_stream(where, data)
            return data
        else:
            data = text
        self.problems += [f"{where}: {error}" for error in _errors(data, schema)]
        return data

    def _check_stream(self, where: str, events: list[dict[str, str]]) -> None:
        """Progress events (numbered in order) and then one ``end`` with the job."""
        schemas = SPEC["components"]["schemas"]
        if not events or events[-1].get("event") != "end":
            self.problems.append(f"{where}: the stream does not end with an end event")
        numbers = []
        for event in events:
            data = json.loads(event["data"])
            kind = event.get("event")
            if kind == "progress":
                numbers.append(int(event["id"]))
                errors = _errors(data, schemas["JobEvent"])
            elif kind == "end":
                errors = _errors(data, schemas["Job"])
                if data["state"] not in FINISHED:
                    errors.append(f"the end event's job is {data['state']}")
            else:
                errors = [f"an event named {kind!r}"]
            self.problems += [f"{where}: {kind}: {error}" for error in errors]
        if numbers != list(range(numbers[0], numbers[0] + len(numbers)) if numbers else []):
            self.problems.append(f"{where}: event ids {numbers} are not consecutive")

    async def job(
        self, method: str, path: str, body: Any = None, at: Mapping[str, str] | None = None
    ) -> Any:
        """Start a job (202, with its Location) and return it."""
        response, job = await self(method, path, expect=202, body=body, at=at)
        if not response.headers.get("Location", "").endswith(f"/userpkg/api/jobs/{job['id']}"):
            self.problems.append(f"{method} {path}: Location {response.headers.get('Location')}")
        return job

    async def wait(self, job: dict[str, Any]) -> dict[str, Any]:
        """Poll the job until it ends; every answer is checked."""
        for _ in range(3000):
            _, job = await self("get", API + "jobs/{job_id}", expect=200, at={"job_id": job["id"]})
            if job["state"] in FINISHED:
                return job
            await asyncio.sleep(0.1)
        raise AssertionError(f"job {job['id']} did not finish: {job}")

    async def run(
        self, method: str, path: str, body: Any = None, at: Mapping[str, str] | None = None
    ) -> Any:
        job = await self.wait(await self.job(method, path, body, at))
        assert job["state"] == "succeeded", job["error"]
        return job


@pytest.fixture
def jp_server_config(
    userpkg_settings: dict[str, Any], conda_channel: TestChannel, tmp_path: Path
) -> dict[str, Any]:
    """The test channel is the default conda channel (searched by search and info)."""
    userpkg_settings.update(
        default_channels=[conda_channel.url], search_cache_dir=str(tmp_path / "search-cache")
    )
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_userpkg": True}},
        "UserPkg": userpkg_settings,
    }


# ------------------------------------------------------------------ the document


def test_the_document_is_valid_openapi() -> None:
    import schemathesis

    schemathesis.openapi.from_path(SPEC_PATH).validate()
    assert SPEC["openapi"] == "3.0.3"


def test_every_served_route_is_documented() -> None:
    """The route table and the document name the same operations, both ways."""
    assert SERVED - documented() == set(), "served but not documented"
    assert documented() - SERVED == set(), "documented but not served"


def test_every_error_code_is_documented() -> None:
    """A code the core can raise is one the REST clients (and the panel) are told of; the
    filtered mirror's codes are an administrator's CLI verb's, which REST does not expose."""
    import importlib

    from jupyter_userpkg.core import errors

    for module in ("config", "upstream"):  # the mirror's error classes, defined
        importlib.import_module(f"jupyter_userpkg.core.mirror.{module}")

    def codes(cls: type[errors.UserPkgError]) -> set[str]:
        mine = set() if cls.__module__.startswith("jupyter_userpkg.core.mirror") else {cls.code}
        return mine.union(*(codes(sub) for sub in cls.__subclasses__()))

    raised = codes(errors.UserPkgError) - {"error", "usage"}  # the base; the CLI's own
    documented_codes = set(SPEC["components"]["schemas"]["ErrorCode"]["enum"])
    assert raised == documented_codes


def test_every_status_an_error_maps_to_is_documented_somewhere() -> None:
    from jupyter_userpkg.core import errors

    def statuses(cls: type[errors.UserPkgError]) -> set[int]:
        return {cls.http_status}.union(*(statuses(sub) for sub in cls.__subclasses__()))

    answered = {
        int(status)
        for item in SPEC["paths"].values()
        for method in METHODS
        for status in item.get(method, {}).get("responses", {})
    }
    assert statuses(errors.UserPkgError) <= answered


def test_examples_match_their_schemas() -> None:
    """Every example in the document is an instance of the schema beside it."""
    checked = 0

    def walk(node: Any) -> None:
        nonlocal checked
        if isinstance(node, dict):
            if "schema" in node and "example" in node and not isinstance(node["example"], str):
                _validate(node["example"], node["schema"])
                checked += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(SPEC["paths"])
    walk(SPEC["components"])
    for name, schema in SPEC["components"]["schemas"].items():
        if "example" in schema:
            _validate(schema["example"], {"$ref": f"#/components/schemas/{name}"})
            checked += 1
    assert checked >= 5


# ------------------------------------------------------------------ the server


def _get_routes() -> list[str]:
    """GET routes that take no parameter at all."""
    return sorted(
        path
        for method, path in SERVED
        if method == "get"
        and "{" not in path
        and not any(p.get("required") for p in SPEC["paths"][path]["get"].get("parameters", []))
    )


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
    check = Checker(jp_fetch)
    _, data = await check("get", path, expect=200)
    assert not check.problems, check.problems
    assert data is not None


@pytest.mark.parametrize(("method", "path"), sorted(SERVED))
async def test_documented_errors(jp_fetch: Any, method: str, path: str) -> None:
    """Without a valid token every operation is refused as documented."""
    url = re.sub(r"\{\w+\}", "x", path.removeprefix("/"))
    body = "{}" if method == "post" else None
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(
            *url.split("/"),
            method=method.upper(),
            body=body,
            headers={"Authorization": "token wrong"},
        )
    assert err.value.code == 403
    assert err.value.response is not None
    check = Checker(jp_fetch)
    check.check(method, path, err.value.response)
    assert not check.problems, check.problems


@pytest.mark.slow
async def test_every_operation_answers_as_documented(
    jp_fetch: Any, conda_channel: TestChannel, envs_dir: Path
) -> None:
    """A real venv env (tabulate from PyPI, a kernel) and a conda env (the test channel),
    through every served operation; each answer is checked against the document."""
    from filelock import FileLock

    check = Checker(jp_fetch)
    envs = API + "envs"
    env = API + "envs/{env}"
    jobs_path = API + "jobs/{job_id}"
    docs, sci = {"env": "docs"}, {"env": "sci"}

    await check("get", API + "health", expect=200)
    await check("get", envs, expect=200)

    # A venv env with a kernel and a package from PyPI: planned first, nothing made.
    create = {"name": "docs", "kind": "venv", "specs": ["tabulate==0.9.0"]}
    _, plan = await check("post", envs, expect=200, body={**create, "dry_run": True})
    assert {c["name"]: c["new"] for c in plan["changes"]}["tabulate"] == "0.9.0"
    await check("get", env, expect=404, at=docs)
    made = await check.run("post", envs, create)
    _, info = await check("get", env, expect=200, at=docs)
    assert info["kernel"] == "userpkg-docs"
    await check("get", jobs_path + "/events", expect=200, at={"job_id": made["id"]})

    # ETags: the same answer is 304 without a body.
    for path in (envs, env + "/packages"):
        response, _ = await check("get", path, expect=200, at=docs)
        etag = response.headers["Etag"]
        await check("get", path, expect=304, headers={"If-None-Match": etag}, at=docs)

    _, packages = await check("get", env + "/packages", expect=200, at=docs)
    assert {"tabulate", "ipykernel"} <= {p["name"] for p in packages if p["source"] == "pypi"}
    deps = env + "/packages/{name}/dependents"
    _, needs = await check("get", deps, expect=200, at={**docs, "name": "traitlets"})
    assert {"ipykernel", "jupyter-client"} <= {canonical(n) for n in needs["required_by"]}
    _, none = await check("get", deps, expect=200, at={**docs, "name": "tabulate"})
    assert none == {"name": "tabulate", "required_by": []}
    await check("get", env + "/history", expect=200, at=docs)
    # "No module named tabulate": the env's installed tabulate provides it.
    _, provides = await check(
        "get", API + "provides", expect=200, params={"name": "tabulate", "env": "docs"}
    )
    assert provides["found"] is True, provides
    for fmt in ("requirements", "environment", "lock", "notebook", "pep723"):
        response, _ = await check(
            "get", env + "/export", expect=200, params={"format": fmt}, at=docs
        )
        assert "attachment" in response.headers.get("Content-Disposition", "")
    await check("get", env + "/export", expect=400, params={"format": "zip"}, at=docs)

    change = {"install": ["tabulate==0.8.10"]}
    _, plan = await check("post", env + "/plan", expect=200, body=change, at=docs)
    assert [c["new"] for c in plan["changes"]] == ["0.8.10"]
    # What the change replaces, by the import names its installed files give.
    assert plan["modules"] == {"tabulate": ["tabulate"]}
    changed = await check.job("post", env + "/transactions", change, at=docs)
    await check("get", jobs_path + "/events", expect=200, at={"job_id": changed["id"]})
    changed = await check.wait(changed)
    assert changed["result"]["revision"] == 1

    # The stream again, from its second event on; and where a reconnecting browser resumes.
    _, events = await check(
        "get",
        jobs_path + "/events",
        expect=200,
        params={"after": "1"},
        at={"job_id": changed["id"]},
    )
    assert events[0]["id"] == "1", events[0]
    _, events = await check(
        "get",
        jobs_path + "/events",
        expect=200,
        headers={"Last-Event-ID": "1"},
        at={"job_id": changed["id"]},
    )
    if events[0].get("id") != "2":
        check.problems.append(f"Last-Event-ID: 1 resumes at {events[0]}, not after event 1")

    await check(
        "post",
        env + "/rollback",
        expect=200,
        body={"revision": 0, "dry_run": True},
        at=docs,
    )
    await check.run("post", env + "/rollback", {"revision": 0}, at=docs)

    # Cancelling: while the test holds the env's lock, one job waits for it
    # (running) and the next waits behind it (queued).
    lock = FileLock(str(envs_dir / ".locks" / "docs.lock"))
    with lock:
        running = await check.job("post", env + "/transactions", change, at=docs)
        queued = await check.job("post", env + "/transactions", change, at=docs)
        for _ in range(200):  # the first job's worker starts, and waits for the lock
            _, state = await check("get", jobs_path, expect=200, at={"job_id": running["id"]})
            if state["state"] == "running":
                break
            await asyncio.sleep(0.02)
        _, stopping = await check("delete", jobs_path, expect=200, at={"job_id": queued["id"]})
        assert stopping["cancel_requested"] and stopping["state"] == "cancelled"
        _, stopping = await check("delete", jobs_path, expect=202, at={"job_id": running["id"]})
        assert stopping["cancel_requested"]
    for job in (running, queued):
        assert (await check.wait(job))["state"] == "cancelled"
    _, again = await check("delete", jobs_path, expect=200, at={"job_id": running["id"]})
    assert again["state"] == "cancelled" and again["error"]["code"] == "cancelled"
    _, info = await check("get", env, expect=200, at=docs)
    assert info["revision"] == 2

    # A conda env from the test channel.
    create = {"name": "sci", "kind": "conda", "channels": [conda_channel.url], "specs": ["bar 1.*"]}
    await check.run("post", envs, {**create, "kernel": False})
    _, packages = await check("get", env + "/packages", expect=200, at=sci)
    assert {p["source"] for p in packages} == {"conda"}
    _, plan = await check("post", env + "/plan", expect=200, body={"install": ["baz"]}, at=sci)
    for fmt in ("environment", "lock"):
        await check("get", env + "/export", expect=200, params={"format": fmt}, at=sci)
    _, error = await check(
        "get", env + "/export", expect=400, params={"format": "requirements"}, at=sci
    )
    assert error["code"] == "invalid_request"

    _, listed = await check("get", API + "jobs", expect=200)
    _, mine = await check("get", API + "jobs", expect=200, params={"env": "sci"})
    assert len(mine) == 1 and len(listed) > 1

    # Search and package details, where the server serves them.
    if ("get", API + "search") in SERVED:
        _, found = await check(
            "get", API + "search", expect=200, params={"q": "ba", "source": "conda"}
        )
        hits = {hit["name"]: hit for hit in found["results"]}
        assert (hits["bar"]["version"], hits["baz"]["version"]) == ("2.0", "1.0"), hits
        await check("get", API + "search", expect=400, params={"q": "a b/c"})
    if ("get", API + "packages/{name}") in SERVED:
        pkg = API + "packages/{name}"
        await check("get", pkg, expect=200, params={"source": "conda"}, at={"name": "bar"})
        await check("get", pkg, expect=200, params={"source": "pypi"}, at={"name": "tabulate"})
        await check(
            "get", pkg, expect=404, params={"source": "conda"}, at={"name": "no-such-package"}
        )

    # The administrator's policy (none here) and the envs that violate it.
    _, policy = await check("get", API + "policy", expect=200)
    assert policy["origins"] == {} and "violations" not in policy
    _, checked = await check("get", API + "policy", expect=200, params={"check": "true"})
    assert checked["violations"] == []
    await check("get", API + "policy", expect=400, params={"check": "maybe"})

    # The kinds, with what each can do (a create form is built from these).
    _, kinds = await check("get", API + "kinds", expect=200)
    assert [k["name"] for k in kinds] == ["layer", "venv", "conda"]
    assert [k["name"] for k in kinds if k["channels"]] == ["conda"]
    assert [k["name"] for k in kinds if k["default"]] == ["layer"]
    assert [k["name"] for k in kinds if "requirements" not in k["exports"]] == ["conda"]

    # Errors, each as documented.
    await check("post", envs, expect=409, body={"name": "docs"})
    await check("post", envs, expect=400, body={"name": "x", "kindd": "venv"})
    await check("get", env, expect=400, at={"env": "bad name"})
    await check("get", env + "/history", expect=404, at={"env": "nope"})
    await check(
        "post",
        env + "/rollback",
        expect=404,
        body={"revision": 9, "dry_run": True},
        at=docs,
    )
    await check("get", jobs_path, expect=404, at={"job_id": "nope"})

    await check.run("delete", env, at=sci)
    await check("delete", env, expect=404, at=sci)

    successes = {(m, p) for m, p, status in check.seen if status < 300}
    assert SERVED - successes == set(), "operations never answered with success"
    assert not check.problems, "\n".join(check.problems)
