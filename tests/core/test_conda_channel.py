"""The hand-built test channel holds packages that real rattler solves and installs correctly.

Every conda test in the suite trusts ``tests.conda_channel``; if its archives were subtly
wrong (bad paths.json, no prefix rewrite, noarch python not relocated) those tests would be
testing the builder, not the package manager.  These tests pin down what users rely on.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import rattler
from rattler.exceptions import SolverError

from tests.conda_channel import PLACEHOLDER, TestChannel, build_test_channel, index_channel


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> TestChannel:
    return build_test_channel(tmp_path_factory.mktemp("conda-channel"))


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One package cache per module: each archive is extracted once, like on a real host."""
    return tmp_path_factory.mktemp("rattler-cache")


def solve(
    channel: TestChannel, cache_dir: Path, specs: Sequence[str]
) -> list[rattler.RepoDataRecord]:
    virtual = rattler.VirtualPackage.detect(rattler.VirtualPackageOverrides.from_env())
    gateway = rattler.Gateway(cache_dir=cache_dir / "repodata")
    return asyncio.run(
        rattler.solve(
            [channel.url],
            list(specs),
            gateway=gateway,
            platforms=["linux-64", "noarch"],
            virtual_packages=virtual,
        )
    )


def install(records: list[rattler.RepoDataRecord], prefix: Path, cache_dir: Path) -> None:
    asyncio.run(rattler.install(records, prefix, cache_dir=cache_dir / "pkgs", show_progress=False))


def versions(records: Sequence[rattler.RepoDataRecord]) -> dict[str, str]:
    return {r.name.normalized: str(r.version) for r in records}


def test_install_rewrites_prefix_relocates_noarch_python_and_shims_python(
    channel: TestChannel, cache_dir: Path, tmp_path: Path
) -> None:
    records = solve(channel, cache_dir, ["python", "bar 1.*", "pyfoo ==0.1", "needs-glibc"])
    assert versions(records) == {
        "python": "{}.{}.{}".format(*sys.version_info[:3]),
        "bar": "1.0",
        "libfoo": "1.0",
        "pyfoo": "0.1",
        "needs-glibc": "1.0",
    }

    prefix = tmp_path / "env"
    install(records, prefix, cache_dir)

    conf = (prefix / "etc" / "libfoo.conf").read_text()
    assert conf == f"prefix={prefix}\n"
    assert PLACEHOLDER not in conf

    foo_config = prefix / "bin" / "foo-config"
    assert os.access(foo_config, os.X_OK)
    out = subprocess.run([foo_config], capture_output=True, text=True, check=True).stdout
    assert out == "libfoo 1.0\n"

    assert (prefix / "share" / "bar" / "VERSION").read_text() == "1.0"
    assert (prefix / "share" / "needs-glibc" / "ok").exists()

    code = "import pyfoo, sys; print(pyfoo.__version__, sys.prefix)"
    proc = subprocess.run(
        [prefix / "bin" / "python", "-c", code], capture_output=True, text=True, check=True
    )
    assert proc.stdout.split() == ["0.1", str(prefix)]
    xy = "python{}.{}".format(*sys.version_info[:2])
    site = prefix / "lib" / xy / "site-packages"
    assert (site / "pyfoo-0.1.dist-info" / "INSTALLER").read_text() == "conda\n"
    record = (site / "pyfoo-0.1.dist-info" / "RECORD").read_text()
    assert "pyfoo/__init__.py,sha256=" in record

    meta = {json.loads(p.read_text())["name"] for p in (prefix / "conda-meta").glob("*.json")}
    assert meta == {"python", "bar", "libfoo", "pyfoo", "needs-glibc"}


def test_conda_format_package_installs_with_prefix_rewrite(
    channel: TestChannel, cache_dir: Path, tmp_path: Path
) -> None:
    records = solve(channel, cache_dir, ["libfoo 2.*"])
    [libfoo] = records
    assert libfoo.url.endswith("libfoo-2.0-0.conda")

    prefix = tmp_path / "env"
    install(records, prefix, cache_dir)
    assert (prefix / "etc" / "libfoo.conf").read_text() == f"prefix={prefix}\n"
    assert (prefix / "lib" / "libfoo.so.2").exists()
    out = subprocess.run([prefix / "bin" / "foo-config"], capture_output=True, text=True)
    assert out.stdout == "libfoo 2.0\n"


def test_constrains_pulls_libfoo_down_only_when_present(
    channel: TestChannel, cache_dir: Path
) -> None:
    assert versions(solve(channel, cache_dir, ["baz"])) == {"baz": "1.0"}
    assert versions(solve(channel, cache_dir, ["baz", "libfoo"])) == {
        "baz": "1.0",
        "libfoo": "1.0",
    }
    assert versions(solve(channel, cache_dir, ["pinme"]))["pinme"] == "1.1"


def test_conflicts_and_virtual_packages(
    channel: TestChannel, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SolverError):
        solve(channel, cache_dir, ["left", "right"])

    monkeypatch.delenv("CONDA_OVERRIDE_CUDA", raising=False)
    if not any(
        str(v).startswith("__cuda")
        for v in rattler.VirtualPackage.detect(rattler.VirtualPackageOverrides.from_env())
    ):
        with pytest.raises(SolverError):
            solve(channel, cache_dir, ["needs-cuda"])

    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12")
    assert versions(solve(channel, cache_dir, ["needs-cuda"])) == {"needs-cuda": "1.0"}


def test_index_channel_writes_repodata_for_empty_subdirs(tmp_path: Path) -> None:
    index_channel(tmp_path)
    for subdir in ("noarch", "linux-64"):
        data = json.loads((tmp_path / subdir / "repodata.json").read_text())
        assert data["packages"] == {}
