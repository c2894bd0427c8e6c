"""The policy against what a lock, an index or a channel says of a package: each package is
judged as the index or channel that serves it describes it, in the order the engines read
them, never by a lock's own fields; on real uv, real rattler, local indexes and channels."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from jupyter_userpkg.core.errors import BackendUnavailable, PolicyDenied
from jupyter_userpkg.core.options import CondaOptions, UvOptions
from jupyter_userpkg.core.policy import pypi as pypipolicy
from jupyter_userpkg.core.policy.licences import allowed, of_fields
from tests.conda_channel import build_package, index_channel
from tests.core.policy.test_engines import OLD, index, service, versions
from tests.localindex import LocalIndex, build_wheel

__all__ = ["index"]  # the module's index fixture, shared


def test_a_rebuild_of_an_allowed_version_is_allowed(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, tmp_path: Path
) -> None:
    """A plan shows a build-only change as ``1.0 (1)``: the version judged is 1.0."""
    path = tmp_path / "builds" / "channel"
    for build in ("0", "1"):
        build_package(
            path,
            "bldx",
            "1.0",
            build=build,
            build_number=int(build),
            noarch="generic",
            files={"share/b": build},
        )
    index_channel(path)
    rule = {"name": "bldx", "versions": ">=5", "reason": "future"}
    svc = service(envs_dir, index, conda_options, blocked_versions=[rule])
    svc.create("c", kind="conda", kernel=False, specs=["bldx 1.0 0"], channels=[path.as_uri()])
    result = svc.change("c", install=["bldx 1.0 1"])
    assert [(c.name, c.new) for c in result.plan.changes] == [("bldx", "1.0 (1)")]


def test_the_licence_is_read_where_uv_takes_the_package(
    envs_dir: Path, conda_options: CondaOptions, tmp_path: Path
) -> None:
    """uv takes a package from the first index that has it, the extra ones before the
    default: the licence is read from the same index."""
    first, second = tmp_path / "default", tmp_path / "extra"
    first.mkdir()
    second.mkdir()
    build_wheel(first, "polshared", "1.0", license_expression="MIT", uploaded=OLD)
    build_wheel(second, "polshared", "1.0", license_expression="GPL-3.0-only", uploaded=OLD)
    with LocalIndex(first, json=True) as default, LocalIndex(second, json=True) as extra:
        uv = UvOptions(default_index=default.url, extra_index_urls=(extra.url,))
        svc = service(envs_dir, None, conda_options, uv=uv, allowed_licenses=["MIT"])
        with pytest.raises(PolicyDenied, match=r"polshared 1\.0 .*GPL-3\.0-only"):
            svc.create("v", kind="venv", kernel=False, specs=["polshared"])
    assert not svc.store.exists("v")


def test_an_index_that_cannot_be_reached_is_not_a_package_without_licence(
    envs_dir: Path, conda_options: CondaOptions, tmp_path: Path
) -> None:
    wheels = tmp_path / "w"
    wheels.mkdir()
    build_wheel(wheels, "offlic", "1.0", license_expression="MIT", uploaded=OLD)
    cache = tmp_path / "uv-cache"
    with LocalIndex(wheels, json=True) as served:
        uv = UvOptions(default_index=served.url, cache_dir=str(cache))
        service(envs_dir, None, conda_options, uv=uv, allowed_licenses=["MIT"]).create(
            "a", kind="venv", kernel=False, specs=["offlic"]
        )
    pypipolicy._LICENCES.clear()  # another process
    offline_uv = replace(uv, offline=True)
    offline = service(envs_dir, None, conda_options, uv=offline_uv, allowed_licenses=["MIT"])
    with pytest.raises(BackendUnavailable, match=r"licence of offlic 1\.0 cannot be checked"):
        offline.create("b", kind="venv", kernel=False, specs=["offlic"])


@pytest.mark.parametrize(
    ("expression", "classifiers", "field", "licence"),
    [
        ("MIT", [], "GPL", "MIT"),
        (
            "",
            ["License :: OSI Approved :: MIT License", "License :: OSI Approved :: BSD License"],
            "",
            "MIT License OR BSD License",
        ),
        (None, ["License :: OSI Approved :: MIT License"], "UNKNOWN", "MIT License"),
        (None, [], "UNKNOWN", None),
        (None, [], "BSD", "BSD"),
    ],
)
def test_the_json_api_is_read_as_core_metadata_is(
    expression: str | None, classifiers: list[str], field: str, licence: str | None
) -> None:
    assert of_fields(expression, classifiers, field) == licence
    if licence == "MIT License OR BSD License":
        assert allowed(licence, ["MIT"])


def _stale(path: Path, name: str, built: int, published: dict[str, int]) -> None:
    """Give each record of ``name`` the time its channel published it (indexed_timestamp)."""
    for subdir in ("noarch", "linux-64"):
        repodata = path / subdir / "repodata.json"
        data = json.loads(repodata.read_text())
        for table in ("packages", "packages.conda"):
            for filename, record in data.get(table, {}).items():
                version = filename.split("-")[-2]
                record["indexed_timestamp"] = published.get(version, built)
        repodata.write_text(json.dumps(data))
        (path / subdir / "repodata.json.zst").unlink(missing_ok=True)
        (path / subdir / "repodata_shards.msgpack.zst").unlink(missing_ok=True)
        shutil.rmtree(path / subdir / "shards", ignore_errors=True)


def test_a_lock_is_judged_by_publication_time_like_a_solve(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, tmp_path: Path
) -> None:
    """snapx 2.0 was built in 2020 but published in 2025: past a 2022 snapshot, as the
    solver sees it, and a lock that names it is refused too."""
    path = tmp_path / "snap" / "channel"
    for version in ("1.0", "2.0"):
        build_package(
            path,
            "snapx",
            version,
            noarch="generic",
            timestamp=1_590_000_000_000,
            files={"share/s": version},
        )
    index_channel(path)
    _stale(path, "snapx", 1_590_000_000_000, {"2.0": 1_735_689_600_000})
    ch = [path.as_uri()]
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create("src", kind="conda", kernel=False, specs=["snapx 2.0"], channels=ch)
    lock = tmp_path / "lock.toml"
    lock.write_text(open_svc.export("src", "lock"))
    dated = service(envs_dir, index, conda_options, snapshot="2022-01-01")
    with pytest.raises(PolicyDenied, match=r"snapx 2\.0 .*snapshot"):
        dated.create("copy", from_file=str(lock), kind="conda")
    assert not dated.store.exists("copy")


def test_a_lock_is_judged_by_the_file_it_downloads(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, tmp_path: Path
) -> None:
    """A lock whose URL names the GPL linux-64 build while its subdir field says noarch (the
    MIT build): the package judged is the one its URL downloads."""
    path = tmp_path / "dual" / "channel"
    build_package(path, "dualx", "1.0", noarch="generic", license="MIT", files={"share/d": "mit"})
    build_package(
        path, "dualx", "1.0", subdir="linux-64", license="GPL-3.0-only", files={"share/d": "gpl"}
    )
    index_channel(path)
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create(
        "src", kind="conda", kernel=False, specs=["dualx[subdir=noarch]"], channels=[path.as_uri()]
    )
    text = open_svc.export("src", "lock")
    forged = text.replace("/noarch/dualx-1.0-0.tar.bz2", "/linux-64/dualx-1.0-0.tar.bz2")
    forged = re.sub(r"(?m)^  (sha256|md5): .*\n", "", forged)
    assert forged != text
    lock = tmp_path / "lock.toml"
    lock.write_text(forged)
    strict = service(envs_dir, index, conda_options, allowed_licenses=["MIT"])
    with pytest.raises(PolicyDenied, match=r"dualx 1\.0 .*GPL-3\.0-only"):
        strict.create("copy", from_file=str(lock), kind="conda")
    assert not strict.store.exists("copy")


def test_a_lock_of_a_package_published_since_the_channel_was_read(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, tmp_path: Path
) -> None:
    """A long-lived server read the channel before 2.0 was published; a colleague's lock
    names 2.0: the channel is read again (within its TTL), not taken as lacking it."""
    path = tmp_path / "late" / "channel"
    build_package(path, "latex", "1.0", noarch="generic", files={"share/s": "1"})
    index_channel(path)
    ch = [path.as_uri()]
    server = service(envs_dir, index, replace(conda_options, repodata_ttl=0.0), max_envs=9)
    server.create("a", kind="conda", kernel=False, specs=["latex"], channels=ch)
    build_package(path, "latex", "2.0", noarch="generic", files={"share/s": "2"})
    index_channel(path)
    other = replace(conda_options, repodata_cache_dir=str(tmp_path / "other-repodata"))
    colleague = service(envs_dir, index, other)
    colleague.create("src", kind="conda", kernel=False, specs=["latex 2.0"], channels=ch)
    lock = tmp_path / "lock.toml"
    lock.write_text(colleague.export("src", "lock"))
    server.create("copy", from_file=str(lock), kind="conda")
    assert versions(server, "copy")["latex"] == "2.0"
