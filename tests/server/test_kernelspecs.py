"""The server's kernel spec manager: envs' kernelspecs from one cached index, as Jupyter's
own manager would list them, a new env's kernel without a restart, kernels that start,
and the launcher kept to the envs pinned or used lately."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from jupyter_userpkg.core import kernelindex, kernels
from jupyter_userpkg.core.service import UserPkgService
from jupyter_userpkg.server.kernelspecs import UserPkgKernelSpecManager
from tests.serverproc import ServerProcess


async def execute(server: ServerProcess, kernel_id: str, code: str) -> str:
    """Run ``code`` in the kernel through the server's websocket, as a notebook does."""
    from tornado.websocket import websocket_connect

    url = f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels?token={server.token}"
    ws = await websocket_connect(url)
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": "execute_request", "username": "t", "session": "s"}
    content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}}
    message = {"header": {**header, "version": "5.3", "date": ""}, "parent_header": {}}
    ws.write_message(
        json.dumps({**message, "metadata": {}, "content": content, "channel": "shell"})
    )
    out: list[str] = []
    try:
        while True:
            raw = await asyncio.wait_for(ws.read_message(), 60)
            assert raw is not None, "the kernel's channels closed"
            reply = json.loads(raw)
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if reply["msg_type"] == "stream":
                out.append(reply["content"]["text"])
            if reply["msg_type"] == "status" and reply["content"]["execution_state"] == "idle":
                return "".join(out)
    finally:
        ws.close()


def pin(server: ServerProcess, path: str, body: Any) -> tuple[int, Any]:
    """``PUT userpkg/api/<path>`` with a JSON body: (status, answer)."""
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def api(server: ServerProcess, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/api/{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.loads(response.read() or b"null")


def revalidate(server: ServerProcess, etag: str | None) -> tuple[int, str, Any]:
    """``GET api/kernelspecs`` as a browser asks again: (status, ETag, answer or None)."""
    headers = {"Authorization": f"token {server.token}"}
    if etag is not None:
        headers["If-None-Match"] = etag
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/api/kernelspecs", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers["Etag"], json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Etag"], None


@pytest.mark.slow
def test_the_server_serves_env_kernels_from_the_index(tmp_path: Path) -> None:
    home = tmp_path / "home"
    envs_dir = tmp_path / "envs"
    kernels_dir = home / "data" / "kernels"
    server = ServerProcess(home, {"envs_dir": str(envs_dir)}).start()
    try:
        before = api(server, "GET", "kernelspecs")[1]["kernelspecs"]
        assert not any(name.startswith("userpkg-") for name in before)
        status, etag, _ = revalidate(server, None)
        assert status == 200 and revalidate(server, etag)[0] == 304  # kept: nothing changed
        # Made outside the server (as by the CLI): listed at the next request, also for a
        # browser that asks with the ETag of the listing before.
        svc = UserPkgService(envs_dir, kernels_dir=kernels_dir)
        svc.create("a", kind="layer")
        status, new_etag, body = revalidate(server, etag)
        assert status == 200 and new_etag != etag and "userpkg-a" in body["kernelspecs"]
        listed = api(server, "GET", "kernelspecs")[1]["kernelspecs"]
        assert set(listed) == set(before) | {"userpkg-a"}
        # As Jupyter's own manager reads it from disk: whole, one by one; in the listing,
        # what a front end reads, with the launcher's flag.
        own = KernelSpecManager(kernel_dirs=[str(kernels_dir)]).get_kernel_spec("userpkg-a")
        assert api(server, "GET", "kernelspecs/userpkg-a")[1]["spec"] == own.to_dict()
        served = listed["userpkg-a"]["spec"]
        assert served["metadata"]["userpkg"] == {"env": "a", "launcher": True, "pinned": False}
        for key in ("argv", "display_name", "language", "interrupt_mode"):
            assert served[key] == own.to_dict()[key]

        code, kernel = api(server, "POST", "kernels", {"name": "userpkg-a"})
        assert code == 201
        out = asyncio.run(execute(server, kernel["id"], "import sys; print(sys.prefix)"))
        assert out.strip() == str(envs_dir / "a")  # the env's kernel, as a notebook starts it
        api(server, "DELETE", f"kernels/{kernel['id']}")
        assert "userpkg-a" in kernelindex.launcher(kernels_dir)[1]  # noted as used

        # Pinned through REST (the panel's command): said at the next listing.
        assert pin(server, "envs/a/launcher", {"pinned": True})[0] == 200
        meta = api(server, "GET", "kernelspecs")[1]["kernelspecs"]["userpkg-a"]["spec"]["metadata"]
        assert meta["userpkg"]["pinned"] is True
        code, error = pin(server, "envs/a/launcher", {"pinned": "yes"})
        assert code == 400 and error["code"] == "invalid_request"
        assert pin(server, "envs/nope/launcher", {"pinned": True})[0] == 404

        svc.delete("a")
        listed = api(server, "GET", "kernelspecs")[1]["kernelspecs"]
        assert set(listed) == set(before)
    finally:
        server.stop()


def fake_env(kernels_dir: Path, envs_dir: Path, env: str) -> None:
    spec = kernels.kernelspec(env, envs_dir / env, envs_dir, {})
    kernels.sync(kernels_dir, env, envs_dir, [kernels.KernelFiles(kernels.kernel_name(env), spec)])


def shown(ksm: UserPkgKernelSpecManager) -> set[str]:
    specs = ksm.get_all_specs()
    return {
        name
        for name, model in specs.items()
        if model["spec"].get("metadata", {}).get("userpkg", {}).get("launcher", True)
    }


def test_the_launcher_shows_pinned_and_recent_envs(tmp_path: Path) -> None:
    kernels_dir, envs_dir = tmp_path / "kernels", tmp_path / "envs"
    for i in range(8):
        fake_env(kernels_dir, envs_dir, f"e{i}")
        time.sleep(0.01)  # made one after another
    ksm = UserPkgKernelSpecManager(
        kernel_dirs=[str(kernels_dir)], userpkg_kernels_dir=str(kernels_dir), launcher_recent=3
    )
    assert shown(ksm) - {"python3"} == {"userpkg-e5", "userpkg-e6", "userpkg-e7"}
    assert len(ksm.get_all_specs()) == 9  # every env stays in the kernel picker
    kernelindex.pin(kernels_dir, "userpkg-e0", True)
    kernelindex.mark_used(kernels_dir, "userpkg-e1")
    assert shown(ksm) - {"python3"} == {"userpkg-e0", "userpkg-e1", "userpkg-e6", "userpkg-e7"}
    kernelindex.pin(kernels_dir, "userpkg-e0", False)
    assert "userpkg-e0" not in shown(ksm)


def test_other_kernelspecs_as_jupyter_lists_them(tmp_path: Path) -> None:
    """Specs that are not ours (an administrator's, the server's Python) come out as
    jupyter_server's own listing makes them; a change of one is seen."""
    other = tmp_path / "other"
    (other / "R").mkdir(parents=True)
    spec = {"argv": ["R", "{connection_file}"], "display_name": "R", "language": "R"}
    (other / "R" / "kernel.json").write_text(json.dumps(spec))
    (other / "R" / "logo-64x64.png").write_bytes(b"png")
    ksm = UserPkgKernelSpecManager(kernel_dirs=[str(other)], userpkg_kernels_dir=str(tmp_path))
    specs = ksm.get_all_specs()
    assert set(specs) == {"r", "python3"}
    assert specs["r"]["spec"]["display_name"] == "R"
    assert specs["r"]["resources"] == {"logo-64x64": "/kernelspecs/r/logo-64x64.png"}
    assert ksm.get_kernel_spec("r").argv == spec["argv"]
    (other / "R" / "kernel.json").write_text(json.dumps({**spec, "display_name": "R 4.4"}))
    assert ksm.get_all_specs()["r"]["spec"]["display_name"] == "R 4.4"
    ksm.allowed_kernelspecs = {"r"}
    assert set(ksm.get_all_specs()) == {"r"}


def test_the_kept_listing_is_the_json_jupyter_server_makes(tmp_path: Path) -> None:
    """GET api/kernelspecs's body, kept while nothing changed, is the one jupyter_server's
    own handler encodes (``{"default", "kernelspecs"}`` of the manager's models); a new
    env's kernelspec or another default makes it again."""
    kernels_dir, envs_dir = tmp_path / "kernels", tmp_path / "envs"
    fake_env(kernels_dir, envs_dir, "e0")
    ksm = UserPkgKernelSpecManager(
        kernel_dirs=[str(kernels_dir)], userpkg_kernels_dir=str(kernels_dir)
    )

    def theirs(default: str) -> bytes:
        return json.dumps({"default": default, "kernelspecs": ksm.get_all_specs()}).encode()

    body, etag = ksm.listing("python3")
    assert body == theirs("python3") and ksm.listing("python3") == (body, etag)
    assert ksm.listing("python3")[0] is body  # kept, not encoded again
    fake_env(kernels_dir, envs_dir, "e1")
    again, new_etag = ksm.listing("python3")
    assert again == theirs("python3") and new_etag != etag
    assert "userpkg-e1" in json.loads(again)["kernelspecs"]
    assert ksm.listing("userpkg-e0")[0] == theirs("userpkg-e0")
