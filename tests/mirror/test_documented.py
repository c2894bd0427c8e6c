"""The admin guide's worked example of the filtered mirror, run as written: its config
file and policy (with a test's upstreams and paths), ``mirror plan`` and ``mirror sync``
from the CLI, the tree served on loopback, and a user's env installed from it alone
through the policy's ``indexes``."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from jupyter_userpkg.commands.config import UserPkg
from jupyter_userpkg.core.errors import NotInMirror
from jupyter_userpkg.core.mirror.config import load_config
from jupyter_userpkg.core.mirror.sync import sync
from jupyter_userpkg.core.policy.rules import from_data
from jupyter_userpkg.core.policy.sources import Loaded
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import build_test_channel
from tests.localindex import LocalIndex
from tests.mirror.conftest import Site, build_upstream, make_env, make_site, served, uv

pytestmark = pytest.mark.slow

JSON = "application/vnd.pypi.simple.v1+json"
GUIDE = Path(__file__).parents[2] / "docs" / "admin-guide.md"


def _section() -> str:
    text = GUIDE.read_text()
    start = text.index("## Filtered mirror\n")
    return text[start : text.index("\n## ", start + 1)]


def _block(lang: str) -> str:
    match = re.search(rf"```{lang}\n(.*?)```", _section(), re.S)
    assert match, f"no {lang} block in the guide's Filtered mirror section"
    return match.group(1)


def test_the_guides_worked_example(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_upstream(wheels)
    channel = build_test_channel(tmp_path / "cf")
    (tmp_path / "conda-forge").symlink_to(channel.path)
    (tmp_path / "approved.txt").write_text("app\n")
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "base.yml").write_text("dependencies:\n  - bar\n")
    homes = tmp_path / "home"
    with LocalIndex(wheels, json=True) as index:
        config = (
            _block("toml")
            .replace("/srv/userpkg-mirror", str(tmp_path / "out"))
            .replace('# upstream = "..."', f'upstream = "{index.url}"')
            .replace(
                "https://channels.example.org/conda-forge", (tmp_path / "conda-forge").as_uri()
            )
            .replace("/etc/userpkg/approved.txt", str(tmp_path / "approved.txt"))
            .replace("/etc/userpkg/envs/*.yml", str(tmp_path / "envs" / "*.yml"))
            .replace("/home/*/.local/share/jupyter/userpkg/envs", f"{homes}/*/envs")
            .replace("/etc/jupyter/jupyter_userpkg_policy.json", str(tmp_path / "policy.json"))
        )
        (tmp_path / "mirror.toml").write_text(config)
        policy_text = _block("json")
        (tmp_path / "policy.json").write_text(policy_text)
        site = Site(tmp_path, tmp_path / "mirror.toml", tmp_path / "policy.json", homes)
        make_env(site, "alice", "analysis", ["app==2.0"], index, 1)  # runs libdep 2.0

        cli = [sys.executable, "-m", "jupyter_userpkg", "mirror"]
        plan = subprocess.run(
            [*cli, "plan", "--config", str(site.config)], capture_output=True, text=True
        )
        assert plan.returncode == 0, plan.stderr
        assert "users' envs this would break (1):\n  daemon/analysis: libdep 2.0" in plan.stdout
        assert "pypi libdep 2.0: blocked_versions: libdep ==2.0" in plan.stdout
        assert not (tmp_path / "out").exists()
        done = subprocess.run(
            [*cli, "sync", "--config", str(site.config)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"published {tmp_path / 'out'}/")

    current = tmp_path / "out" / "current"
    assert (current / "conda" / "conda-forge" / "noarch" / "repodata.json").is_file()
    with served(current) as url:  # python -m http.server --directory .../current
        data = json.loads(policy_text.replace("https://mirror.hub.example.org", url))
        policy = from_data(data, str(tmp_path / "policy.json"))
        svc = UserPkgService.from_config(
            UserPkg(envs_dir=str(tmp_path / "user" / "envs"), kernels_dir=str(tmp_path / "k"),
                    uv_cache_dir=str(tmp_path / "user" / "uv")),
            loaded=Loaded(policy, {}),
        )  # fmt: skip
        svc.create("ana", kind="venv", specs=["app"], kernel=False, audit=False)
        versions = {p.name: p.version for p in svc.packages("ana")}
        assert (versions["app"], versions["libdep"]) == ("3.0", "1.1")
        # through the user's server: the mirror has no such version to offer, and says
        # how to ask for it
        with pytest.raises(NotInMirror) as lacks:
            svc.change("ana", install=["libdep==2.0"], dry_run=True)
        assert "the version of libdep this needs is not in the administrator's" in str(lacks.value)
        assert str(lacks.value).endswith("ask for it at https://help.example.org/packages")
        # search reads the mirror's index, found beside its pages
        found = svc.search("app", source="pypi").results
        assert [(h.name, h.version, h.mirror) for h in found] == [("app", "3.0", True)]
        py = str(tmp_path / "user/envs/ana/bin/python")
        where = ["--index-url", f"{url}/pypi/simple", "--cache-dir", str(tmp_path / "raw")]
        raw = uv("pip", "install", "--no-config", "--python", py, *where, "libdep==2.0")
        assert raw.returncode != 0 and "libdep" in raw.stderr


@pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx")
def test_the_guides_nginx_config_serves_pep_691_to_who_asks(
    tmp_path: Path, upstream: LocalIndex
) -> None:
    """The guide's nginx server block over a synced tree: JSON for clients that ask for
    it (uv does), HTML otherwise (pip), and uv installs through it."""
    site = make_site(tmp_path / "site", upstream, None)
    config = load_config(site.config)
    sync(config)
    block = _block("nginx").replace("/srv/userpkg-mirror", str(config.output))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    block = block.replace("listen 80;", f"listen 127.0.0.1:{port};")
    run = tmp_path / "nginx"
    run.mkdir()
    temps = " ".join(
        f"{kind}_temp_path {run / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (run / "nginx.conf").write_text(
        f"daemon off; user root; pid {run / 'pid'}; error_log {run / 'error.log'};\n"
        "events {}\nhttp { include /etc/nginx/mime.types; access_log off;\n"
        f"{temps}\n{block}\n}}\n"
    )
    server = subprocess.Popen(["nginx", "-c", str(run / "nginx.conf"), "-p", str(run)])
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(url, timeout=1)
                break
            time.sleep(0.05)
        as_json = httpx.get(f"{url}/pypi/simple/app/", headers={"Accept": JSON})
        assert as_json.headers["content-type"] == JSON
        assert [f["filename"] for f in as_json.json()["files"]] == [
            "app-2.0-py3-none-any.whl", "app-3.0-py3-none-any.whl",
        ]  # fmt: skip
        as_html = httpx.get(f"{url}/pypi/simple/app/")
        assert as_html.headers["content-type"].startswith("text/html")
        assert 'href="../../files/app-3.0-py3-none-any.whl#sha256=' in as_html.text
        root = httpx.get(f"{url}/pypi/simple/", headers={"Accept": JSON}).json()
        assert {p["name"] for p in root["projects"]} == {"app", "libdep"}
        venv = tmp_path / "venv"
        assert uv("venv", "--no-config", str(venv)).returncode == 0
        where = ["--index-url", f"{url}/pypi/simple", "--cache-dir", str(tmp_path / "c")]
        got = uv(
            "pip", "install", "--no-config", "--python", str(venv / "bin/python"), *where, "app"
        )
        assert got.returncode == 0, got.stderr
    finally:
        server.terminate()
        server.wait()
