"""What a listing needs of one revision, written beside it when it is committed.

``envs`` (and the server's ``GET envs``) list every env at once: reading each
one's manifest and parsing its whole lock to count packages cost a few
milliseconds an env.  A committed revision never changes, so its kind, Python,
package count and held packages (what the policy's advisories judge) are written
at commit into ``summary.json``, and a listing reads that small file instead.

The summary records the size and modification time of the files it was made
from; when one differs (a file damaged or edited since) the summary is not used,
and the listing reads the files themselves, which says what is damaged.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .specs import canonical_name

SUMMARY = "summary.json"

_CONDA_URL = re.compile(r"(?m)^- conda: (\S+)$")


def held_of(pypi: Iterable[tuple[str, str]], conda_lock: str) -> list[tuple[str, str, str]]:
    """(name, version, source) of every package a revision holds: ``pypi`` is its PyPI
    lock's (name, version) pairs; the conda lock's package URLs carry both."""
    out = [(name, version, "pypi") for name, version in pypi]
    for url in _CONDA_URL.findall(conda_lock):
        filename = url.rsplit("/", 1)[-1]
        stem = re.sub(r"\.(conda|tar\.bz2)$", "", filename)
        parts = stem.rsplit("-", 2)
        if len(parts) == 3:
            out.append((parts[0], parts[1], "conda"))
    return out


def write(revision_dir: Path, texts: dict[str, str]) -> None:
    """Write the summary of the revision whose files (name -> the text just written) are
    in ``revision_dir``; called at commit, before the directory takes its final name."""
    env = tomllib.loads(texts["manifest.toml"])["env"]
    lock = texts["pylock.toml"]
    packages = tomllib.loads(lock).get("packages", []) if lock.strip() else []
    pypi = [(canonical_name(str(p["name"])), str(p.get("version", ""))) for p in packages]
    conda = texts.get("conda.lock", "")
    data = {
        "kind": str(env["kind"]),
        "python": str(env.get("python", "")),
        "packages": len(packages) + len(re.findall(r"(?m)^- conda: ", conda)),
        "held": held_of(pypi, conda),
        "files": {n: _stamp(revision_dir / n) for n in sorted(texts)},
    }
    (revision_dir / SUMMARY).write_text(json.dumps(data), encoding="utf-8")


def read(revision_dir: Path) -> dict[str, Any] | None:
    """The summary of a committed revision, or None when there is none or the files it
    was made from have changed since."""
    base = os.fspath(revision_dir)  # plain strings: a listing reads hundreds of these
    try:
        with open(f"{base}/{SUMMARY}", encoding="utf-8") as fh:
            data = json.load(fh)
        files = data["files"]
        if any(_stamp(f"{base}/{n}") != stamp for n, stamp in files.items()):
            return None
        if os.access(f"{base}/conda.lock", os.F_OK) != ("conda.lock" in files):
            return None
        return {
            "kind": str(data["kind"]),
            "python": str(data["python"]),
            "packages": int(data["packages"]),
            "held": [tuple(h) for h in data["held"]],
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _stamp(path: str | Path) -> list[int]:
    info = os.stat(path)
    return [info.st_size, info.st_mtime_ns]
