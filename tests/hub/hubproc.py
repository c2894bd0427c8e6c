"""A real JupyterHub in a subprocess on loopback ports, and a client for it.

The hub runs configurable-http-proxy (the project's ``node_modules``) and
spawns ``jupyterhub-singleuser`` from this interpreter's environment, where
the ``jupyter_userpkg`` server extension is enabled by its installed
``jupyter_server_config.d`` file.  Every user's server runs with the user's
own ``HOME`` and nothing else of the hub's environment but the locale, so its
Jupyter dirs (and the envs under ``<data dir>/userpkg/envs``) are the user's.

``Hub.write_config`` writes a plain ``jupyterhub_config.py`` from
``CONFIG_TEMPLATE``, filling in only paths, ports, names and the settings a
test gives (``environment``: extra ``Spawner.environment`` entries, such as
``PATH``; ``args``: extra arguments of every
single-user server, such as ``--UserPkg.default_index=...``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from string import Template
from typing import Any

from tests import namespace
from tests.serverproc import free_port

ROOT = Path(__file__).resolve().parents[2]
PROXY = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
# This interpreter's environment (not resolved: .venv/bin/python is a symlink out of it).
BIN = Path(sys.executable).parent
FINISHED = ("succeeded", "failed", "cancelled")

CONFIG_TEMPLATE = Template('''\
"""JupyterHub with jupyter-userpkg in every user's server.

SimpleLocalProcessSpawner runs every server as the hub's own system user, with
a home of its own: for tests and demos only.  A real deployment spawns servers
as the users themselves (LocalProcessSpawner, SystemdSpawner, DockerSpawner,
KubeSpawner); the `Spawner` settings below carry over to those.
"""

import os

c = get_config()  # noqa: F821 - defined by JupyterHub when it loads this file

# Where the hub listens: the proxy's public URL, the hub's own, the proxy's API.
c.JupyterHub.bind_url = $bind_url
c.JupyterHub.hub_bind_url = $hub_bind_url
c.ConfigurableHTTPProxy.api_url = $proxy_api_url
c.ConfigurableHTTPProxy.command = [$proxy]
c.ConfigurableHTTPProxy.pid_file = $proxy_pid_file
c.JupyterHub.db_url = $db_url
c.JupyterHub.cookie_secret_file = $cookie_secret_file

# Users: a fixed list, one shared password (DummyAuthenticator: tests only).
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = $password
c.Authenticator.allowed_users = $users

# Each user's server: jupyterhub-singleuser of the environment where
# jupyter-userpkg is installed (its server extension is enabled there).
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = $home_dir_template
c.Spawner.cmd = [$singleuser]
c.Spawner.args = $args
if os.getuid() == 0:  # containers and CI run as root; jupyter_server refuses root without this
    c.Spawner.args.append("--ServerApp.allow_root=True")
c.Spawner.ip = "127.0.0.1"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180

# Of the hub's own environment, only the locale reaches a user's server: no
# JUPYTER_* or XDG_* directory and no PYTHONPATH, so a server's Jupyter config
# and data dirs (and the user's envs, under <data dir>/userpkg/envs, and caches)
# follow the user's HOME.  The policy is not set here: users' terminals and
# kernels inherit this environment, and a user can change or drop any variable.
# It lives in /etc/jupyter/jupyter_userpkg_policy.json, which only root writes.
c.Spawner.env_keep = ["LANG", "LC_ALL"]
c.Spawner.environment = $environment

# A service whose token may start users' servers and make tokens for users.
c.JupyterHub.services = [{"name": "userpkg-admin", "api_token": $admin_token}]
c.JupyterHub.load_roles = [
    {
        "name": "userpkg-admin",
        "scopes": ["users", "servers", "tokens"],
        "services": ["userpkg-admin"],
    }
]
''')


class HubError(AssertionError):
    pass


class Hub:
    """JupyterHub under ``directory`` (config, database, log and the users' homes)."""

    password = "userpkg-test-password"

    def __init__(
        self,
        directory: Path,
        *,
        users: Sequence[str] = ("alice", "bob"),
        environment: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        hub_env: Mapping[str, str] | None = None,
        private_etc: Path | None = None,
        as_users: bool = False,
    ) -> None:
        self.directory = directory
        #: Spawn each server as the Unix user of its name (LocalProcessSpawner, the hub as
        #: root, the users real): what a hub with shared envs runs, where a user's server
        #: is not the administrator.
        self.as_users = as_users
        #: With a dir, the hub runs with that dir's overlay over /etc (tests/namespace.py).
        self.private_etc = private_etc
        self.users = tuple(users)
        self.environment = dict(environment or {})
        self.args = list(args)
        self.hub_env = dict(hub_env or {})  # added to the hub process's own environment
        self.admin_token = secrets.token_hex(16)
        self.port = free_port()
        self.hub_port = free_port()
        self.proxy_api_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.tokens: dict[str, str] = {}

    # -- paths and URLs

    @property
    def url(self) -> str:
        """The public URL (the proxy), ending in a slash."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def config_file(self) -> Path:
        return self.directory / "jupyterhub_config.py"

    @property
    def log_file(self) -> Path:
        return self.directory / "hub.log"

    def home(self, user: str) -> Path:
        return self.directory / "home" / user

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    # -- the process

    def write_config(self) -> Path:
        environment = {
            "PATH": os.pathsep.join([str(BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
            **self.environment,
        }
        values = {
            "bind_url": f"http://127.0.0.1:{self.port}",
            "hub_bind_url": f"http://127.0.0.1:{self.hub_port}",
            "proxy_api_url": f"http://127.0.0.1:{self.proxy_api_port}",
            "proxy": str(PROXY),
            "proxy_pid_file": str(self.directory / "proxy.pid"),
            "db_url": f"sqlite:///{self.directory / 'jupyterhub.sqlite'}",
            "cookie_secret_file": str(self.directory / "jupyterhub_cookie_secret"),
            "password": self.password,
            "users": set(self.users),
            "home_dir_template": str(self.directory / "home" / "{username}"),
            "singleuser": str(BIN / "jupyterhub-singleuser"),
            "args": self.args,
            "environment": environment,
            "admin_token": self.admin_token,
        }
        text = CONFIG_TEMPLATE.substitute({key: _literal(v) for key, v in values.items()})
        if self.as_users:  # each server runs as its user, in the user's own home
            text += '\nc.JupyterHub.spawner_class = "localprocess"\n'
        self.config_file.write_text(text)
        return self.config_file

    def start(self, timeout: float = 60) -> Hub:
        if not os.access(PROXY, os.X_OK):
            raise HubError(f"{PROXY} is missing: run `jlpm install` in {ROOT}")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.write_config()
        env = {**os.environ, **self.hub_env}
        argv = [str(BIN / "jupyterhub"), "-f", str(self.config_file)]
        if self.private_etc is not None:
            # Servers spawned as users must reach this interpreter (it may be in /root).
            argv = namespace.wrap(argv, self.private_etc, open_root=self.as_users)
        with open(self.log_file, "ab") as log:
            self.proc = subprocess.Popen(
                argv,
                cwd=self.directory,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the proxy goes with it
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HubError(f"the hub exited ({self.proc.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "hub/api/", timeout=5) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.2)
        self.stop()
        raise HubError(f"the hub did not answer within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        """Stop the users' servers (through the hub), then the hub and its proxy."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            for user in self.users:
                with contextlib.suppress(HubError, OSError):
                    self.stop_server(user)
            self.proc.terminate()  # the hub stops the proxy and any server left
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever of its group is left

    # -- the hub's REST API (with the admin service's token)

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return request(self.url + "hub/api/" + path, method, token=self.admin_token, body=body)

    def start_servers(self, *users: str, timeout: float = 240) -> None:
        """Start the users' default servers (at once) and wait until each is ready."""
        for user in users:
            code, body = self.api("POST", f"users/{user}/server")
            if code not in (201, 202, 400):  # 400: already running
                raise HubError(f"starting {user}'s server: {code} {body}\n{self.log()}")
        deadline = time.monotonic() + timeout
        waiting = set(users)
        while waiting and time.monotonic() < deadline:
            for user in sorted(waiting):
                code, model = self.api("GET", f"users/{user}")
                server = (model or {}).get("servers", {}).get("") if code == 200 else None
                if server and server.get("ready"):
                    waiting.discard(user)
                elif not server:
                    raise HubError(f"{user}'s server is gone: {model}\n{self.log()}")
            time.sleep(0.5)
        if waiting:
            raise HubError(f"servers not ready within {timeout} s: {waiting}\n{self.log()}")

    def stop_server(self, user: str, timeout: float = 60) -> None:
        code, body = self.api("DELETE", f"users/{user}/server")
        if code not in (202, 204, 400):
            raise HubError(f"stopping {user}'s server: {code} {body}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, model = self.api("GET", f"users/{user}")
            if code == 200 and not model.get("servers"):
                return
            time.sleep(0.3)
        raise HubError(f"{user}'s server did not stop within {timeout} s")

    def new_token(self, user: str, **body: Any) -> str:
        """A new API token of ``user``'s, made by the admin service (body: scopes, note...)."""
        code, model = self.api("POST", f"users/{user}/tokens", body=body or {"note": "tests"})
        if code != 201:
            raise HubError(f"token for {user}: {code} {model}")
        token: str = model["token"]
        return token

    def token(self, user: str) -> str:
        """One token of ``user``'s for the whole session (made on first use)."""
        if user not in self.tokens:
            self.tokens[user] = self.new_token(user)
        return self.tokens[user]

    # -- a user's server, through the proxy

    def server(
        self,
        user: str,
        method: str,
        path: str,
        *,
        token: str,
        body: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> tuple[int, Any]:
        """``/user/{user}/{path}`` with ``token``: the status and the JSON (or text) answer."""
        url = f"{self.url}user/{user}/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        return request(url, method, token=token, body=body)

    def userpkg(
        self, user: str, method: str, path: str, *, token: str, body: Any = None
    ) -> tuple[int, Any]:
        """The extension's REST API of ``user``'s server: ``/user/{user}/userpkg/api/{path}``."""
        return self.server(user, method, "userpkg/api/" + path, token=token, body=body)

    def run_job(
        self,
        user: str,
        method: str,
        path: str,
        *,
        token: str,
        body: Any = None,
        timeout: float = 300,
    ) -> dict[str, Any]:
        """Start a job (202), poll ``GET jobs/{id}`` until it ends, and return it."""
        code, job = self.userpkg(user, method, path, token=token, body=body)
        if code != 202:
            raise HubError(f"{method} {path} for {user}: {code} {job}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, job = self.userpkg(user, "GET", f"jobs/{job['id']}", token=token)
            if code != 200:
                raise HubError(f"GET jobs/{job}: {code}")
            if job["state"] in FINISHED:
                return dict(job)
            time.sleep(0.2)
        raise HubError(f"job {job['id']} did not finish within {timeout} s: {job}")

    def run_code(
        self,
        user: str,
        code: str,
        *,
        token: str,
        kernel_name: str = "python3",
        timeout: float = 120,
    ) -> str:
        """Run ``code`` in a new kernel of ``user``'s server; its output as text.

        Streams, results, displays (``text/plain``) and errors (name, value and
        traceback) in the order the kernel sent them, until the kernel is idle
        after the request.  The kernel is shut down afterwards.
        """
        status, kernel = self.server(
            user, "POST", "api/kernels", token=token, body={"name": kernel_name}
        )
        if status != 201:
            raise HubError(f"starting a {kernel_name} kernel for {user}: {status} {kernel}")
        try:
            loop = asyncio.new_event_loop()  # its own: not the one a test framework may hold
            try:
                return loop.run_until_complete(
                    asyncio.wait_for(self._execute(user, kernel["id"], code, token), timeout)
                )
            finally:
                loop.close()
        finally:
            self.server(user, "DELETE", f"api/kernels/{kernel['id']}", token=token)

    async def _execute(self, user: str, kernel_id: str, code: str, token: str) -> str:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        session = uuid.uuid4().hex
        url = f"ws://127.0.0.1:{self.port}/user/{user}/api/kernels/{kernel_id}/channels"
        ws = await websocket_connect(
            HTTPRequest(f"{url}?session_id={session}", headers={"Authorization": f"token {token}"})
        )
        try:
            msg_id = uuid.uuid4().hex
            await ws.write_message(json.dumps(execute_request(code, msg_id, session, user)))
            out: list[str] = []
            while True:
                raw = await ws.read_message()
                if raw is None:
                    raise HubError(f"the kernel's websocket closed; output so far: {out}")
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    out.append(content["text"])
                elif kind in ("execute_result", "display_data"):
                    out.append(content["data"].get("text/plain", "") + "\n")
                elif kind == "error":
                    out.append(f"{content['ename']}: {content['evalue']}\n")
                    out.extend(line + "\n" for line in content.get("traceback", []))
                elif kind == "status" and content["execution_state"] == "idle":
                    return "".join(out)
        finally:
            ws.close()


def execute_request(code: str, msg_id: str, session: str, username: str) -> dict[str, Any]:
    """A Jupyter messaging protocol (v5) ``execute_request`` on the shell channel."""
    return {
        "header": {
            "msg_id": msg_id,
            "session": session,
            "username": username,
            "msg_type": "execute_request",
            "version": "5.3",
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        "parent_header": {},
        "metadata": {},
        "content": {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
        "channel": "shell",
        "buffers": [],
    }


def request(url: str, method: str, *, token: str, body: Any = None) -> tuple[int, Any]:
    """An HTTP request with ``Authorization: token ...``; the status and the JSON (or text)."""
    data = json.dumps(body).encode() if body is not None else None
    if method in ("POST", "PUT", "PATCH") and data is None:
        data = b"{}"
    req = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, _decode(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, _decode(exc.read())


def _decode(raw: bytes) -> Any:
    text = raw.decode(errors="replace")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _literal(value: Any) -> str:
    """``value`` (strings and lists, sets and dicts of them) as a Python literal for the
    config file: strings double-quoted, sets sorted, a dict one entry a line."""
    if isinstance(value, str):
        return json.dumps(value)  # a valid Python string literal too
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, set):
        return "{" + ", ".join(_literal(v) for v in sorted(value)) + "}"
    if isinstance(value, dict):
        items = "".join(f"    {_literal(k)}: {_literal(v)},\n" for k, v in value.items())
        return "{\n" + items + "}" if items else "{}"
    raise TypeError(f"no literal for {value!r}")
