"""Settings of the two engines and of package search, as plain frozen values.

Built from the ``UserPkg`` configuration (:mod:`.config`) by the service and
handed to every engine call; kept apart from the engines so that reading an
env (``envs``, ``list``) never imports them.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

#: Where a bare conda channel name points (conda's default ``channel_alias``).
DEFAULT_CHANNEL_ALIAS = "https://conda.anaconda.org/"


def private_dir(path: Path) -> None:
    """Make a cache directory of this user's, private (0700), if it is not there yet.

    A cache is the user's own: other users must neither read what it holds nor
    write into it (env files are hard links into it).  An existing one keeps
    its mode; ``doctor`` says when other users can reach it.
    """
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)


@dataclass(frozen=True)
class UvOptions:
    """Index and cache settings passed to every uv call."""

    default_index: str = ""
    extra_index_urls: tuple[str, ...] = ()
    #: Wheel directories (or pages) searched besides the indexes: a shared, read-only layer.
    find_links: tuple[str, ...] = ()
    cache_dir: str = ""
    offline: bool = False
    #: The policy's snapshot (ISO 8601): nothing uploaded later is a candidate.
    exclude_newer: str = ""
    #: The policy lets uv download a managed Python (``create --python X.Y``).
    python_downloads: bool = False

    def args(self) -> list[str]:
        if self.cache_dir:
            private_dir(Path(self.cache_dir))  # before uv makes it, world-readable
        out = ["--no-config", "--color", "never"]
        if not self.python_downloads:
            out.append("--no-python-downloads")
        if self.exclude_newer:
            out += ["--exclude-newer", self.exclude_newer]
        if self.default_index:
            out += ["--default-index", self.default_index]
        for url in self.extra_index_urls:
            out += ["--extra-index-url", url]
        for location in self.find_links:
            out += ["--find-links", location]
        if self.cache_dir:
            out += ["--cache-dir", self.cache_dir]
        if self.offline:
            out.append("--offline")
        return out


@dataclass(frozen=True)
class CondaOptions:
    """Channels, caches and network settings of the conda engine."""

    channel_alias: str = DEFAULT_CHANNEL_ALIAS
    default_channels: tuple[str, ...] = ("conda-forge",)
    #: Writable package cache (extracted packages, hard-linked into envs).
    pkgs_dir: str = ""
    #: Read-only package caches searched first (an administrator's shared layer).
    shared_pkgs_dirs: tuple[str, ...] = ()
    repodata_cache_dir: str = ""
    #: Seconds a channel's in-memory repodata is used before a conditional refresh.
    repodata_ttl: float = 300.0
    offline: bool = False
    #: The policy's snapshot (ISO 8601): records built later are not candidates.
    exclude_newer: str = ""

    def cache_root(self) -> Path:
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jupyter-userpkg"

    def pkgs(self) -> Path:
        return Path(self.pkgs_dir) if self.pkgs_dir else self.cache_root() / "conda-pkgs"

    def repodata(self) -> Path:
        if self.repodata_cache_dir:
            return Path(self.repodata_cache_dir)
        return self.cache_root() / "conda-repodata"


@dataclass(frozen=True)
class SearchOptions:
    """Where ``search`` and ``info`` keep what they fetched, and for how long it is fresh.

    PyPI has no search API: its whole project list is kept on disk (and in
    memory once read) and matched locally; package details come from the
    index's JSON API, one small file each.
    """

    #: Directory of the caches (empty: ``<cache root>/search``, beside the conda caches).
    cache_dir: str = ""
    #: Seconds the cached PyPI project list is used before it is fetched again.
    list_ttl: float = 86400.0
    #: Seconds a cached package's details (versions, summary...) are used before a new fetch.
    info_ttl: float = 3600.0
    offline: bool = False

    def root(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else CondaOptions().cache_root() / "search"
