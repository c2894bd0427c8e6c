"""A real ``jupyter server`` fuzzed against openapi.yaml with schemathesis.

Every operation the server serves gets generated requests, valid and invalid;
every answer must be documented (status, content type, body) and none may be
a 5xx.  The server runs offline with no default channels, so that a generated
create or change fails fast instead of downloading; one env made beforehand
(and a job that made it) give the generated requests something real to read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case

import jupyter_userpkg
from jupyter_userpkg.server.handlers import ROUTES

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SPEC = Path(jupyter_userpkg.__file__).parent / "openapi.yaml"
API = "/userpkg/api/"
BASE_URL = "/user/fuzz/"
TOKEN = "fuzz-token"
#: The env the generated requests read (and change: their changes fail offline).
PREPARED = "work"
FINISHED = ("succeeded", "failed", "cancelled")


def served() -> set[tuple[str, str]]:
    """(METHOD, documented path) of every operation the server's route table serves."""
    out = set()
    for pattern, handler in ROUTES:
        path = API + pattern.replace("(?P<env>[^/]+)", "{env}").replace(
            "(?P<job_id>[^/]+)", "{job_id}"
        )
        out |= {(m.upper(), path) for m in ("get", "post", "delete") if m in vars(handler)}
    return out


SERVED = served()


def is_served(ctx: Any) -> bool:
    return (ctx.operation.method.upper(), ctx.operation.path) in SERVED


schema = schemathesis.openapi.from_path(SPEC).include(is_served)
# The requests carry the server's token (the session's); a generated one would only be a 403.
schema.config.generation.update(with_security_parameters=False)

#: Ids of real jobs, filled in once the server is up, for the generated job ids to use.
KNOWN_JOBS: list[str] = []


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Half of the generated names and ids are replaced by real ones.

    A random env name or job id almost never exists, so without this every
    request about one env or job would be a 404.
    """
    if not path_parameters:
        return st.just(path_parameters)
    if "env" in path_parameters:
        return st.sampled_from([path_parameters, {**path_parameters, "env": PREPARED}])
    if "job_id" in path_parameters and KNOWN_JOBS:
        real = [{**path_parameters, "job_id": job} for job in KNOWN_JOBS]
        return st.sampled_from([path_parameters, *real])
    return st.just(path_parameters)


@schema.hook
def filter_headers(context: Any, headers: dict[str, Any] | None) -> bool:
    """Only header values HTTP allows: the HTTP server refuses others before any handler."""
    return all(
        all(char == "\t" or " " <= char <= "~" for char in str(value))
        for value in (headers or {}).values()
    )


@dataclass
class Server:
    url: str
    root: Path
    session: requests.Session

    def api(self, method: str, path: str, body: Any = None) -> requests.Response:
        url = self.url + BASE_URL.rstrip("/") + API + path
        return self.session.request(method, url, json=body, timeout=60)

    def run(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """Start a job, wait for it to end, and return it."""
        response = self.api(method, path, body)
        assert response.status_code == 202, response.text
        job: dict[str, Any] = response.json()
        for _ in range(1200):
            if job["state"] in FINISHED:
                return job
            time.sleep(0.1)
            job = self.api("GET", f"jobs/{job['id']}").json()
        raise AssertionError(f"job did not finish: {job}")


def _start(root: Path) -> subprocess.Popen[bytes]:
    dirs = {name: root / name for name in ("config", "data", "runtime", "cache", "work")}
    for path in dirs.values():
        path.mkdir()
    config = {
        "ServerApp": {"jpserver_extensions": {"jupyter_userpkg": True}},
        "UserPkg": {
            "envs_dir": str(root / "envs"),
            "offline": True,
            "default_channels": [],
            "uv_cache_dir": str(dirs["cache"] / "uv"),
            "conda_pkgs_dir": str(dirs["cache"] / "conda-pkgs"),
            "repodata_cache_dir": str(dirs["cache"] / "repodata"),
            "search_cache_dir": str(dirs["cache"] / "search"),
            "watch_interval": 0.5,
        },
    }
    (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(config))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTER_PLATFORM_DIRS": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    argv = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--allow-root",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        f"--ServerApp.base_url={BASE_URL}",
        f"--ServerApp.root_dir={dirs['work']}",
        f"--IdentityProvider.token={TOKEN}",
    ]
    log = (root / "server.log").open("wb")
    return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=dirs["work"])


def _wait_for(proc: subprocess.Popen[bytes], root: Path) -> str:
    """The server's URL, once it answers."""
    for _ in range(600):
        if proc.poll() is not None:
            log = (root / "server.log").read_text(errors="replace")
            raise AssertionError(f"the server exited ({proc.returncode}):\n{log}")
        for info in (root / "runtime").glob("jpserver-*.json"):
            with_port = json.loads(info.read_text() or "{}")
            if with_port.get("port"):
                return f"http://127.0.0.1:{with_port['port']}"
        time.sleep(0.1)
    raise AssertionError("the server did not start")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("fuzz")
    proc = _start(root)
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"token {TOKEN}"
        srv = Server(_wait_for(proc, root), root, session)
        made = srv.run("POST", "envs", {"name": PREPARED, "kind": "venv", "kernel": False})
        assert made["state"] == "succeeded", made["error"]
        failed = srv.run("POST", f"envs/{PREPARED}/transactions", {"install": ["tabulate"]})
        assert failed["state"] == "failed"
        KNOWN_JOBS[:] = [made["id"], failed["id"]]
        yield srv
    finally:
        KNOWN_JOBS.clear()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]


def _spare(server: Server, counter: list[int]) -> str:
    """A new env for a generated delete to take instead of the prepared one."""
    counter.append(len(counter))
    name = f"spare-{len(counter)}"
    job = server.run("POST", "envs", {"name": name, "kind": "venv", "kernel": False})
    assert job["state"] == "succeeded", job["error"]
    return name


SPARES: list[int] = []


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_server_answers_as_documented(case: Case[Any], server: Server) -> None:
    if case.method == "DELETE" and case.path_parameters.get("env") == PREPARED:
        case.path_parameters["env"] = _spare(server, SPARES)
    checks = CHECKS
    if case.path.endswith("/events"):
        # OpenAPI 3.0 can describe an event stream only as a string, while
        # schemathesis validates each parsed event against the schema: the
        # stream's body is checked by test_openapi.py, its status and type here.
        checks = [c for c in CHECKS if c is not schemathesis.checks.response_schema_conformance]
    case.call_and_validate(
        base_url=server.url + BASE_URL.rstrip("/"),
        session=server.session,
        checks=checks,
        timeout=120,
    )


def test_the_prepared_env_outlived_the_run(server: Server) -> None:
    """Generated deletes took spare envs; the prepared one is still there, unchanged."""
    response = server.api("GET", f"envs/{PREPARED}")
    assert response.status_code == 200, response.text
    assert response.json()["revision"] >= 0
    assert server.api("GET", "health").status_code == 200
