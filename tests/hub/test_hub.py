"""Two users of one real JupyterHub: their servers, envs and kernels are their own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.hub.hubproc import Hub

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

ENV = "alices-env"
PACKAGE = "hubpkg"


def mentions(root: Path, *words: str) -> list[Path]:
    """Files and dirs under ``root`` whose path or (for files under 1 MB) content has a word."""
    found = []
    for path in sorted(root.rglob("*")):
        text = str(path.relative_to(root))
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 1_000_000:
            text += path.read_bytes().decode(errors="replace")
        if any(word in text for word in words):
            found.append(path)
    return found


@pytest.fixture(scope="module")
def alices_env(hub: Hub, hub_tokens: dict[str, str]) -> dict[str, Any]:
    """``ENV``, created by alice over REST with ``hubpkg==1.0`` from the loopback index."""
    job = hub.run_job(
        "alice",
        "POST",
        "envs",
        token=hub_tokens["alice"],
        body={"name": ENV, "kind": "layer", "specs": [f"{PACKAGE}==1.0"], "kernel": True},
    )
    assert job["state"] == "succeeded", f"{job}\n{hub.log()}"
    return job


def test_both_servers_start_in_their_own_homes(hub: Hub, hub_tokens: dict[str, str]) -> None:
    for user in hub.users:
        code, model = hub.api("GET", f"users/{user}")
        assert code == 200
        server = model["servers"][""]
        assert server["ready"] and server["url"] == f"/user/{user}/"
        code, status = hub.server(user, "GET", "api/status", token=hub_tokens[user])
        assert code == 200, status
        assert hub.home(user).is_dir()
    # The config a test wrote is the one an administrator would: it names the proxy,
    # the single-user command and the spawner's environment.
    config = hub.config_file.read_text()
    assert 'c.JupyterHub.spawner_class = "simple"' in config
    assert "c.Spawner.env_keep = " in config


def test_a_users_api_answers_her_token_only(hub: Hub, hub_tokens: dict[str, str]) -> None:
    alice, bob = hub_tokens["alice"], hub_tokens["bob"]
    code, envs = hub.userpkg("alice", "GET", "envs", token=alice)
    assert code == 200 and isinstance(envs, list)
    assert hub.userpkg("alice", "GET", "envs", token=bob)[0] == 403
    assert hub.userpkg("bob", "GET", "envs", token=alice)[0] == 403
    assert hub.userpkg("bob", "GET", "envs", token=bob)[0] == 200
    assert hub.userpkg("alice", "GET", "envs", token="not-a-token")[0] == 403
    # A token of alice's without access to her servers is refused there too.
    narrow = hub.new_token("alice", scopes=["read:users!user=alice"])
    assert hub.userpkg("alice", "GET", "envs", token=narrow)[0] == 403
    # Changes need the right token as much as reads do.
    code, _ = hub.userpkg("alice", "POST", "envs", token=bob, body={"name": "intruder"})
    assert code == 403


def test_an_env_is_its_owners_alone(
    hub: Hub,
    hub_tokens: dict[str, str],
    alices_env: dict[str, Any],
    hub_own_dirs: dict[str, Path],
) -> None:
    alice, bob = hub_tokens["alice"], hub_tokens["bob"]
    code, envs = hub.userpkg("alice", "GET", "envs", token=alice)
    assert code == 200 and ENV in [env["name"] for env in envs]
    code, packages = hub.userpkg("alice", "GET", f"envs/{ENV}/packages", token=alice)
    assert code == 200
    assert {p["name"]: p["version"] for p in packages}.get(PACKAGE) == "1.0", packages

    code, envs = hub.userpkg("bob", "GET", "envs", token=bob)
    assert code == 200 and ENV not in [env["name"] for env in envs]
    assert hub.userpkg("bob", "GET", f"envs/{ENV}", token=bob)[0] == 404

    # The env, its kernelspec and the caches that served it are in alice's home:
    # her Jupyter data dir follows HOME, not the hub's JUPYTER_DATA_DIR / XDG_DATA_HOME.
    data = hub.home("alice") / ".local" / "share" / "jupyter"
    assert (data / "userpkg" / "envs" / ENV).is_dir()
    spec = json.loads((data / "kernels" / f"userpkg-{ENV}" / "kernel.json").read_text())
    assert spec["metadata"]["userpkg"]["env"] == ENV
    assert mentions(hub.home("bob"), ENV, PACKAGE) == []
    everywhere = mentions(hub.directory / "home", ENV, PACKAGE)
    assert everywhere and all(p.is_relative_to(hub.home("alice")) for p in everywhere), [
        p for p in everywhere if not p.is_relative_to(hub.home("alice"))
    ]
    for key, path in hub_own_dirs.items():
        assert not path.exists(), f"a user's server wrote into the hub's {key}: {path}"


def test_a_kernel_through_the_proxy_sees_its_users_envs(
    hub: Hub, hub_tokens: dict[str, str], alices_env: dict[str, Any]
) -> None:
    code = "\n".join(
        [
            "%load_ext jupyter_userpkg",
            "%userpkg envs",
            "import os",
            "from jupyter_core.paths import jupyter_data_dir",
            "print('HOME=' + os.environ['HOME'])",
            "print('DATA=' + jupyter_data_dir())",
        ]
    )
    out = hub.run_code("alice", code, token=hub_tokens["alice"])
    assert ENV in out, out
    assert f"HOME={hub.home('alice')}\n" in out, out
    assert f"DATA={hub.home('alice')}/.local/share/jupyter\n" in out, out

    out = hub.run_code("bob", code, token=hub_tokens["bob"])
    assert ENV not in out, out
    assert f"HOME={hub.home('bob')}\n" in out, out

    # alice's env's own kernel imports what the env added.
    out = hub.run_code(
        "alice",
        f"import {PACKAGE}; print({PACKAGE}.VERSION)",
        token=hub_tokens["alice"],
        kernel_name=f"userpkg-{ENV}",
    )
    assert out == "1.0\n", out
    # bob's server has no such kernel.
    code_, body = hub.server(
        "bob", "POST", "api/kernels", token=hub_tokens["bob"], body={"name": f"userpkg-{ENV}"}
    )
    assert code_ >= 400, body
