"""Build small but *real* conda packages and index them into a local ``file://`` channel.

The test suite has no network access to conda-forge, yet every conda verb (solve, install,
update, remove, pin, ...) must run against genuine archives so that rattler's strict package
parsing, prefix rewriting, noarch-python relocation and virtual-package handling are exercised
for real.  This module therefore writes both archive formats by hand (``.tar.bz2`` and the
zip-based ``.conda``) and indexes them with ``rattler.index``.

Notes on what rattler insists on (learned the hard way, kept here so nobody relearns it):

* ``info/paths.json`` must be ``paths_version: 1`` and list every payload file with its
  ``path_type``; hardlinks carry ``sha256``/``size_in_bytes`` that rattler validates after
  extraction.  Files that contain the build prefix must say ``file_mode: "text"`` and
  ``prefix_placeholder`` or rattler copies them verbatim.
* noarch python packages need ``info/link.json``; their ``site-packages/`` payload is relocated
  to ``lib/pythonX.Y/site-packages`` using the ``python`` record being installed alongside.
* ``.conda`` is an *uncompressed* (stored) zip holding ``metadata.json``,
  ``info-<stem>.tar.zst`` and ``pkg-<stem>.tar.zst``.
* ``rattler.solve`` rejects records without a ``timestamp`` under its default timestamp
  policy, so every package gets one (milliseconds, increasing).
"""

from __future__ import annotations

import asyncio
import base64
import bz2
import hashlib
import io
import itertools
import json
import os
import sys
import tarfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import zstandard
from rattler.index import index_fs

__all__ = [
    "PLACEHOLDER",
    "TestChannel",
    "build_package",
    "build_test_channel",
    "index_channel",
    "python_shim",
]

PLACEHOLDER: str = (
    "/opt/conda-build/_h_env_placehold_placehold_placehold_placehold_placehold"
    "_placehold_placehold_placehold_placehold_placehold_placehold_placehold"
)
"""A conda-build style fake build prefix; long so that any real prefix fits inside it."""

_SUBDIRS: tuple[str, ...] = ("noarch", "linux-64")
"""The subdirs the standard channel advertises; both must have repodata even when empty."""

_MTIME = 1_700_000_000
"""Fixed archive member mtime (seconds) so rebuilt archives are byte-stable."""

_TIMESTAMP_BASE_MS = 1_700_000_000_000
_timestamps: Iterator[int] = itertools.count(_TIMESTAMP_BASE_MS, 1000)
"""Fallback ``timestamp`` source: strictly increasing, so later builds look newer."""


@dataclass(frozen=True)
class _Member:
    """One archive member: a regular file (``data``) or a symlink (``link``)."""

    path: str
    data: bytes = b""
    link: str | None = None
    mode: int = 0o644


def _as_bytes(content: bytes | str) -> bytes:
    return content.encode() if isinstance(content, str) else content


def _tar_bytes(members: Sequence[_Member]) -> bytes:
    """An uncompressed tar of ``members``, root-owned with fixed mtimes (reproducible)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in sorted(members, key=lambda m: m.path):
            info = tarfile.TarInfo(member.path)
            info.mtime = _MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if member.link is not None:
                info.type = tarfile.SYMTYPE
                info.linkname = member.link
                info.mode = 0o777
                tar.addfile(info)
            else:
                info.size = len(member.data)
                info.mode = member.mode
                tar.addfile(info, io.BytesIO(member.data))
    return buf.getvalue()


def _write_tar_bz2(target: Path, members: Sequence[_Member]) -> None:
    """``.tar.bz2``: one bzip2 tar of ``info/`` plus the payload (conda package format v1)."""
    target.write_bytes(bz2.compress(_tar_bytes(members), 9))


def _write_conda(target: Path, stem: str, members: Sequence[_Member]) -> None:
    """``.conda``: a stored zip of metadata.json and two zstd tars (conda package format v2).

    The zip must not be compressed: rattler streams the inner ``.tar.zst`` members.
    """
    info = [m for m in members if m.path.startswith("info/")]
    payload = [m for m in members if not m.path.startswith("info/")]
    cctx = zstandard.ZstdCompressor(level=3)
    entries = [
        ("metadata.json", json.dumps({"conda_pkg_format_version": 2}).encode()),
        (f"pkg-{stem}.tar.zst", cctx.compress(_tar_bytes(payload))),
        (f"info-{stem}.tar.zst", cctx.compress(_tar_bytes(info))),
    ]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in entries:
            zinfo = zipfile.ZipInfo(name, date_time=(2023, 11, 14, 22, 13, 20))
            zinfo.compress_type = zipfile.ZIP_STORED
            zinfo.external_attr = 0o644 << 16
            zf.writestr(zinfo, data)


def _dist_info_record(files: Mapping[str, bytes], record_path: str) -> bytes:
    """A wheel-style RECORD (paths relative to site-packages) so pip/uv accept the dist-info."""
    lines = []
    for path, data in sorted(files.items()):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(data)}")
    lines.append(f"{record_path},,")
    return ("\n".join(lines) + "\n").encode()


def build_package(
    channel_dir: Path,
    name: str,
    version: str,
    *,
    build: str = "0",
    build_number: int = 0,
    subdir: str = "noarch",
    depends: Sequence[str] = (),
    constrains: Sequence[str] = (),
    files: Mapping[str, bytes | str] = {},
    symlinks: Mapping[str, str] = {},
    noarch: str | None = None,
    prefix_files: Sequence[str] = (),
    fmt: str = "tar.bz2",
    license: str = "MIT",
    timestamp: int | None = None,
) -> Path:
    """Write ``<channel_dir>/<subdir>/<name>-<version>-<build>.<fmt>``; return its path.

    ``files`` maps payload paths to contents; a file whose content starts with ``#!`` is
    archived with mode 0o755 (like any installed script).  ``symlinks`` maps payload paths to
    link targets (absolute or relative).  ``prefix_files`` lists paths of ``files`` that contain
    :data:`PLACEHOLDER` and must be rewritten to the target prefix at install time (text mode).
    ``noarch`` is ``"python"``, ``"generic"`` or ``None``.  ``timestamp`` is in milliseconds;
    when omitted a process-wide increasing value is used so later builds sort as newer.
    """
    if fmt not in ("tar.bz2", "conda"):
        raise ValueError(f"unknown package format {fmt!r}")
    if noarch not in (None, "python", "generic"):
        raise ValueError(f"unknown noarch kind {noarch!r}")
    if noarch is not None and subdir != "noarch":
        raise ValueError(f"noarch {noarch} package must live in subdir noarch, not {subdir}")
    overlap = set(files) & set(symlinks)
    if overlap:
        raise ValueError(f"paths both files and symlinks: {sorted(overlap)}")
    missing = set(prefix_files) - set(files)
    if missing:
        raise ValueError(f"prefix_files not in files: {sorted(missing)}")

    payload = {path: _as_bytes(content) for path, content in files.items()}
    for path in prefix_files:
        if PLACEHOLDER.encode() not in payload[path]:
            raise ValueError(f"{path} is listed in prefix_files but lacks PLACEHOLDER")

    members: list[_Member] = []
    paths: list[dict[str, object]] = []
    for path, data in sorted(payload.items()):
        members.append(_Member(path, data, mode=0o755 if data.startswith(b"#!") else 0o644))
        entry: dict[str, object] = {
            "_path": path,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_in_bytes": len(data),
        }
        if path in prefix_files:
            entry["file_mode"] = "text"
            entry["prefix_placeholder"] = PLACEHOLDER
        paths.append(entry)
    for path, link_target in sorted(symlinks.items()):
        members.append(_Member(path, link=link_target))
        # rattler validates only that a softlink is a symlink; conda-build records the
        # target's hash, which is meaningless for targets outside the package.
        paths.append({"_path": path, "path_type": "softlink", "size_in_bytes": 0})
    paths.sort(key=lambda e: str(e["_path"]))

    index: dict[str, object] = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": build_number,
        "depends": list(depends),
        "constrains": list(constrains),
        "license": license,
        "subdir": subdir,
        "timestamp": next(_timestamps) if timestamp is None else timestamp,
    }
    if noarch is not None:
        index["noarch"] = noarch
    elif subdir != "noarch":
        platform, _, arch = subdir.partition("-")
        index["platform"] = platform
        index["arch"] = {"64": "x86_64", "aarch64": "aarch64", "arm64": "arm64"}.get(arch, arch)

    info: dict[str, bytes] = {
        "info/index.json": json.dumps(index, indent=2, sort_keys=True).encode(),
        "info/paths.json": json.dumps({"paths": paths, "paths_version": 1}, indent=2).encode(),
        "info/files": "".join(f"{e['_path']}\n" for e in paths).encode(),
        "info/about.json": json.dumps({"license": license, "summary": f"test {name}"}).encode(),
    }
    if prefix_files:
        info["info/has_prefix"] = "".join(
            f"{PLACEHOLDER} text {path}\n" for path in sorted(prefix_files)
        ).encode()
    if noarch == "python":
        link = {"noarch": {"type": "python", "entry_points": []}, "package_metadata_version": 1}
        info["info/link.json"] = json.dumps(link, indent=2).encode()
    members.extend(_Member(path, data) for path, data in info.items())

    stem = f"{name}-{version}-{build}"
    out_dir = channel_dir / subdir
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{stem}.{fmt}"
    if fmt == "conda":
        _write_conda(target, stem, members)
    else:
        _write_tar_bz2(target, members)
    return target


def index_channel(channel_dir: Path) -> None:
    """(Re)write repodata for every subdir so rattler's gateway can read the channel.

    ``rattler.index.index_fs`` is a coroutine in py-rattler 0.28; it is run to completion here
    (callers are synchronous fixtures).  Solving for ``linux-64`` + ``noarch`` fails if either
    subdir lacks ``repodata.json``, so an empty one is written for any subdir left without.
    """
    for subdir in _SUBDIRS:
        (channel_dir / subdir).mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(channel_dir, force=True))
    for subdir in _SUBDIRS:
        repodata = channel_dir / subdir / "repodata.json"
        if not repodata.exists():
            empty = {
                "info": {"subdir": subdir},
                "packages": {},
                "packages.conda": {},
                "removed": [],
                "repodata_version": 1,
            }
            repodata.write_text(json.dumps(empty, indent=2))


def _base_interpreter() -> Path:
    """The real (non-venv) interpreter behind the running one, symlinks resolved."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return Path(os.path.realpath(base))


def python_shim(channel_dir: Path, *, version: str | None = None, fmt: str = "tar.bz2") -> Path:
    """A ``python`` package that is a venv shim over THIS machine's real interpreter.

    Building a real CPython conda package is out of reach offline, but a venv layout is all
    the package manager needs: ``bin/python*`` symlink to the base interpreter and
    ``pyvenv.cfg`` makes it treat the conda prefix as ``sys.prefix``.  The record's X.Y names
    ``lib/pythonX.Y/site-packages`` (where rattler relocates noarch python packages) and
    ``bin/pythonX.Y``; ``version`` defaults to the running interpreter's X.Y.Z.  Conda archives
    cannot hold empty directories, so site-packages carries a small marker file.
    """
    if version is None:
        version = "{}.{}.{}".format(*sys.version_info[:3])
    xy = ".".join(version.split(".")[:2])
    real = _base_interpreter()
    pyvenv_cfg = (
        f"home = {real.parent}\n"
        "include-system-site-packages = false\n"
        f"version = {version}\n"
        f"executable = {real}\n"
    )
    major = xy.split(".")[0]
    return build_package(
        channel_dir,
        "python",
        version,
        build="0_shim",
        subdir="linux-64",
        files={
            "pyvenv.cfg": pyvenv_cfg,
            f"lib/python{xy}/site-packages/README.python-shim": (
                "site-packages of a venv-style python shim built for tests\n"
            ),
        },
        symlinks={f"bin/{exe}": str(real) for exe in ("python", f"python{major}", f"python{xy}")},
        license="PSF-2.0",
        fmt=fmt,
        timestamp=_TIMESTAMP_BASE_MS,
    )


@dataclass(frozen=True)
class TestChannel:
    """A built and indexed local channel: where it is and the URL rattler takes."""

    __test__ = False  # not a pytest test class despite the name

    path: Path
    url: str


def _pyfoo_files(version: str) -> dict[str, bytes | str]:
    """pyfoo sources plus a real dist-info, so pip/uv see a conda-installed distribution."""
    dist = f"pyfoo-{version}.dist-info"
    site: dict[str, bytes] = {
        "pyfoo/__init__.py": f'__version__ = "{version}"\n'.encode(),
        f"{dist}/METADATA": (
            f"Metadata-Version: 2.1\nName: pyfoo\nVersion: {version}\nSummary: test package\n"
        ).encode(),
        f"{dist}/INSTALLER": b"conda\n",
    }
    site[f"{dist}/RECORD"] = _dist_info_record(site, f"{dist}/RECORD")
    return {f"site-packages/{path}": data for path, data in site.items()}


def _libfoo_files(version: str) -> dict[str, bytes | str]:
    major = version.split(".")[0]
    return {
        f"lib/libfoo.so.{major}": b"\x7fELF-not-really libfoo " + version.encode() + b"\n",
        "etc/libfoo.conf": f"prefix={PLACEHOLDER}\n",
        "bin/foo-config": f"#!/bin/sh\necho libfoo {version}\n",
    }


def build_test_channel(root: Path) -> TestChannel:
    """The standard channel every conda test uses (see the package list in the body).

    Timestamps increase in build order so that, within a name, the newer version is also the
    newer build — which is what solvers and ``exclude_newer`` reason about.
    """
    channel = root / "channel"
    stamps = itertools.count(_TIMESTAMP_BASE_MS + 1000, 1000)

    python_shim(channel)

    for version, fmt in (("1.0", "tar.bz2"), ("2.0", "conda")):
        build_package(
            channel,
            "libfoo",
            version,
            subdir="linux-64",
            files=_libfoo_files(version),
            prefix_files=["etc/libfoo.conf"],
            fmt=fmt,
            timestamp=next(stamps),
        )

    for version, dep in (("1.0", "libfoo >=1,<2"), ("2.0", "libfoo >=2")):
        build_package(
            channel,
            "bar",
            version,
            noarch="generic",
            depends=[dep],
            files={"share/bar/VERSION": version},
            timestamp=next(stamps),
        )

    build_package(
        channel,
        "baz",
        "1.0",
        noarch="generic",
        constrains=["libfoo <2"],
        files={"share/baz/README": "baz constrains libfoo below 2 when present\n"},
        timestamp=next(stamps),
    )

    for version in ("0.1", "0.2"):
        build_package(
            channel,
            "pyfoo",
            version,
            build="py_0",
            noarch="python",
            depends=["python >=3.8"],
            files=_pyfoo_files(version),
            timestamp=next(stamps),
        )

    for name, virtual in (("needs-glibc", "__glibc >=2.17"), ("needs-cuda", "__cuda >=12")):
        build_package(
            channel,
            name,
            "1.0",
            subdir="linux-64",
            depends=[virtual],
            files={f"share/{name}/ok": "ok\n"},
            timestamp=next(stamps),
        )

    for name, spec in (("left", "libfoo 1.*"), ("right", "libfoo 2.*")):
        build_package(
            channel,
            name,
            "1.0",
            noarch="generic",
            depends=[spec],
            files={f"share/{name}/ok": "ok\n"},
            timestamp=next(stamps),
        )

    for version in ("1.0", "1.1"):
        build_package(
            channel,
            "pinme",
            version,
            noarch="generic",
            files={"share/pinme/VERSION": version},
            timestamp=next(stamps),
        )

    index_channel(channel)
    return TestChannel(path=channel, url=channel.resolve().as_uri())
