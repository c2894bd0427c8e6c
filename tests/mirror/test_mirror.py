"""``mirror plan`` and ``mirror sync`` against an upstream index and conda channel the
tests build, a policy with a blocked package, version and licence, and two users'
envs made by the real service; uv, pip and rattler then install from the served tree."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.core.mirror.config import MirrorConfigError, load_config
from jupyter_userpkg.core.mirror.plan import build_plan
from jupyter_userpkg.core.mirror.searchindex import lookup
from jupyter_userpkg.core.mirror.sync import sync
from jupyter_userpkg.core.options import CondaOptions
from jupyter_userpkg.core.service import UserPkgService
from tests.mirror.conftest import Site, served, uv

pytestmark = pytest.mark.slow


def _rows(rows: list[dict[str, object]]) -> dict[tuple[object, ...], dict[str, object]]:
    return {(r["source"], r["name"], r["version"]): r for r in rows}


def test_config_errors_are_one_line_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('output = "o"\n[pypi]\nkeep_latest = 0\n')
    with pytest.raises(MirrorConfigError, match=r"m.toml: 'pypi.keep_latest' must be at least 1"):
        load_config(path)
    path.write_text('output = "o"\n[seed]\nenvz = []\n')
    with pytest.raises(MirrorConfigError, match=r"unknown key 'seed\.envz'"):
        load_config(path)
    path.write_text("grace_days = 1\n")
    with pytest.raises(MirrorConfigError, match="'output'"):
        load_config(path)


def test_plan_gives_a_reason_for_every_package_and_names_the_env_a_block_breaks(
    site: Site,
) -> None:
    plan = build_plan(load_config(site.config)).plan.to_dict()
    assert not (site.root / "out").exists()  # a plan writes nothing
    add, refused = _rows(plan["add"]), _rows(plan["refused"])
    # keep_latest = 2 newest allowed versions of each request, each with its closure
    assert {("pypi", "app", "3.0"), ("pypi", "app", "2.0")} <= set(add)
    libdep = add[("pypi", "libdep", "1.1")]
    assert libdep["path"] == ["app", "libdep"] and libdep["rule"] == "dependency"
    assert {"user": "daemon", "env": "analysis"} in libdep["needed_by"]  # type: ignore[operator]
    # the lock bin's env runs, and bin's request
    assert add[("pypi", "libdep", "1.0")]["rule"] == "locked"
    assert {"user": "bin", "env": "old"} in add[("pypi", "userlib", "1.0")]["needed_by"]  # type: ignore[operator]
    # refused: by name, by advisory, by licence; each says who asked
    evil = refused[("pypi", "evil", "*")]
    assert evil["rule"] == "blocked_packages: evil" and evil["evidence"] == "known malicious"
    assert evil["needed_by"] == [{"seed": str(site.root / "approved.txt")}]
    blocked = refused[("pypi", "libdep", "2.0")]
    assert blocked["rule"] == "blocked_versions: libdep ==2.0"
    assert "GHSA-test-0001" in str(blocked["evidence"])
    assert refused[("pypi", "gplpkg", "1.0")]["evidence"] == "licence: GPL-3.0-only"
    assert refused[("conda", "gplthing", "1.0")]["rule"] == "allowed_licenses"
    # daemon's env runs libdep 2.0, which the mirror will not hold: broken
    broken = [(b["user"], b["env"], b["name"], b["version"]) for b in plan["broken"]]
    assert broken == [("daemon", "analysis", "libdep", "2.0")]
    assert plan["first_sync"] is True
    # the conda closure went through the upstream's patched dependency
    assert ("conda", "barhelp", "1.0") in add


def test_sync_serves_the_closure_and_users_install_from_it_alone(
    site: Site, tmp_path: Path
) -> None:
    config = load_config(site.config)
    result = sync(config)
    current = config.output / "current"
    assert result.published and current.is_symlink()
    decisions = [
        json.loads(line) for line in (current / "decisions.jsonl").read_text().splitlines()
    ]
    for row in decisions:
        assert {
            "name",
            "version",
            "source",
            "decision",
            "rule",
            "evidence",
            "needed_by",
            "path",
        } <= set(row)
    served_in = {(d["source"], d["name"], d["version"]) for d in decisions if d["decision"] == "in"}
    files = sorted(p.name for p in (current / "pypi" / "files").iterdir())
    wheels = {tuple(f.split("-")[:2]) for f in files if f.endswith(".whl")}
    # exactly the closure: every wheel has an `in` line, every `in` line its wheel
    assert wheels == {(n, v) for s, n, v in served_in if s == "pypi"}
    assert all(f"{f}.metadata" in files for f in files if f.endswith(".whl"))
    page = json.loads((current / "pypi/simple/app/index.json").read_text())
    meta = page["files"][0]["core-metadata"]["sha256"]
    name = page["files"][0]["filename"]
    assert (
        hashlib.sha256((current / "pypi/files" / f"{name}.metadata").read_bytes()).hexdigest()
        == meta
    )
    snapshot = json.loads((current / "snapshot.json").read_text())
    assert snapshot["id"] == result.snapshot and snapshot["counts"]["pypi_versions"] == len(wheels)
    assert [e.name for e in lookup(current / "search-index.tsv", "lib")] == ["libdep", "libfoo"]
    # the upstream's repodata patch is kept (not re-indexed)
    repodata = json.loads((current / "conda/channel/noarch/repodata.json").read_text())
    bar = next(
        r for r in repodata["packages"].values() if (r["name"], r["version"]) == ("bar", "2.0")
    )
    assert "barhelp" in bar["depends"]
    assert not any(r["name"] == "gplthing" for r in repodata["packages"].values())

    with served(config.output) as url:
        index = f"{url}/current/pypi/simple"
        venv = tmp_path / "venv"
        assert uv("venv", "--no-config", str(venv)).returncode == 0
        py = str(venv / "bin" / "python")
        base = ["pip", "install", "--no-config", "--python", py, "--index-url", index]
        cache = ["--cache-dir", str(tmp_path / "uvcache")]
        ok = uv(*base, *cache, "app")
        assert ok.returncode == 0, ok.stderr
        blocked = uv(*base, *cache, "libdep==2.0")
        assert blocked.returncode != 0 and "libdep" in blocked.stderr
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp_path / "dl"),
             "--index-url", index, "--no-cache-dir", "libdep==2.0"],
            capture_output=True, text=True,
        )  # fmt: skip
        assert pip.returncode != 0 and "No matching distribution" in pip.stderr
        records = asyncio.run(_rattler_solve(f"{url}/current/conda/channel", tmp_path))
        assert {r.name.normalized: str(r.version) for r in records} == {
            "bar": "2.0", "barhelp": "1.0", "libfoo": "2.0",
        }  # fmt: skip
    installed = subprocess.run([py, "-c", "import app, libdep; print(app.VERSION, libdep.VERSION)"],
                               capture_output=True, text=True)  # fmt: skip
    assert installed.stdout.split() == ["3.0", "1.1"]

    again = sync(config)
    assert not again.published and again.downloaded == 0 and again.snapshot == result.snapshot


async def _rattler_solve(channel: str, tmp: Path) -> list[Any]:
    import rattler

    from jupyter_userpkg.core.conda.backend import virtual_packages

    return await rattler.solve(
        sources=[channel], specs=["bar"], gateway=rattler.Gateway(cache_dir=tmp / "rattler"),
        platforms=["linux-64", "noarch"], virtual_packages=virtual_packages(),
    )  # fmt: skip


def test_a_users_conda_env_is_kept_and_a_new_block_of_what_it_runs_breaks_it(
    site: Site, channel: Any, tmp_path: Path
) -> None:
    """carol's conda env runs bar 1.0 (and libfoo 1.0): the mirror keeps both files for
    her; once the policy blocks bar 1.0, the plan names her env."""
    envs = site.envs_dir("carol")
    svc = UserPkgService(
        envs, base_python=sys.executable, lock_timeout=60, kernels_dir=tmp_path / "k",
        conda_options=CondaOptions(default_channels=(), pkgs_dir=str(tmp_path / "pkgs"),
                                   repodata_cache_dir=str(tmp_path / "rc")),
    )  # fmt: skip
    svc.create(
        "c", kind="conda", channels=[channel.url], specs=["bar ==1.0"], kernel=False, audit=False
    )
    config = load_config(site.config)
    add = {(d.name, d.filename): d for d in build_plan(config).plan.add if d.source == "conda"}
    bar = add[("bar", "bar-1.0-0.tar.bz2")]
    assert bar.rule == "locked" and any(n.env == "c" for n in bar.needed_by)
    assert ("libfoo", "libfoo-1.0-0.tar.bz2") in add
    site.write_policy(blocked_versions=[{"name": "bar", "versions": "==1.0", "source": "conda"}])
    plan = build_plan(config).plan
    assert [
        (b.need.env, b.source, b.name, b.version) for b in plan.broken if b.need.env == "c"
    ] == [("c", "conda", "bar", "1.0")]
    assert ("conda", "bar", "1.0") in {(d.source, d.name, d.version) for d in plan.refused}
