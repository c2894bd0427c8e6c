"""The conda side of ``search`` and ``info``: names and metadata from the channels' repodata.

Read through the engine's own gateway (:func:`.condabackend.gateway`), the one
the solver uses: a channel's repodata is fetched once per process and shared
between a search and the next plan, and its on-disk cache serves when a
channel cannot be reached (said in a note).  The channels are the configured
default ones (``UserPkg.default_channels`` through ``channel_alias``), the
ones a conda env created without ``-c`` would use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..conda import backend as condabackend
from ..conda import specs as condaspecs
from ..conda.specs import validate_name
from ..errors import BackendUnavailable, Cancelled, PackageNotFound
from ..namematch import NameIndex
from ..options import CondaOptions
from ..searchrecords import PackageInfo

if TYPE_CHECKING:
    from rattler import RepoDataRecord

_lock = threading.Lock()
#: (repodata cache, offline, channels) -> (when read, the names), reused for ``repodata_ttl``.
_names: dict[tuple[str, bool, tuple[str, ...]], tuple[float, NameIndex]] = {}


@dataclass(frozen=True)
class Channels:
    """The channels a search reads, with the settings that reached them."""

    urls: tuple[str, ...]
    options: CondaOptions
    names: NameIndex
    note: str | None = None

    @property
    def offline(self) -> bool:
        return self.note is not None


def channel_urls(options: CondaOptions) -> tuple[str, ...]:
    """The configured default channels as URLs; BackendUnavailable when there are none."""
    urls = tuple(
        url
        for c in options.default_channels
        for url in condaspecs.channel_urls(c, options.channel_alias)
    )
    if not urls:
        raise BackendUnavailable(
            "no conda channels are configured; set UserPkg.default_channels to search them"
        )
    return urls


def _read_names(urls: tuple[str, ...], options: CondaOptions) -> NameIndex:
    key = (str(options.repodata()), options.offline, urls)
    with _lock:
        known = _names.get(key)
    if known is not None and time.monotonic() - known[0] <= options.repodata_ttl:
        return known[1]
    condabackend.refresh(options, urls)
    names = NameIndex.build(condabackend.query_names(urls, options))
    # The gateway now holds these channels' repodata: let it age like a solve's.
    condabackend._mark_fetched(options, urls)
    with _lock:
        _names[key] = (time.monotonic(), names)
    return names


def open_channels(options: CondaOptions) -> Channels:
    """The default channels' names, from the network or, failing that, from the cache (noted)."""
    urls = channel_urls(options)
    if options.offline:
        note = "working offline: conda names from the cached package index"
        return Channels(urls, options, _read_names(urls, options), note)
    try:
        return Channels(urls, options, _read_names(urls, options))
    except BackendUnavailable as exc:
        cached = replace(options, offline=True)
        try:
            names = _read_names(urls, cached)
        except BackendUnavailable:
            raise exc from None  # nothing cached either: the network's error says what to do
    note = f"could not reach {', '.join(urls)}; conda names from the cached package index"
    return Channels(urls, cached, names, note)


def records(channels: Channels, names: Sequence[str]) -> dict[str, tuple[str, list[Any]]]:
    """name -> (channel URL, its records there): the first channel that has a name wins."""
    if not names:
        return {}
    gateway = condabackend.gateway(channels.options)
    try:
        found = condabackend.run(
            gateway.query(
                list(channels.urls),
                condabackend.platforms(),
                list(names),
                recursive=False,
                channel_relations="disabled",
            )
        )
    except Cancelled:
        raise
    except Exception as exc:
        raise BackendUnavailable(
            f"cannot read the package index of {', '.join(channels.urls)}: {exc}",
            details=str(exc),
        ) from None
    # One list per channel and subdir: group by the channel each record names.
    by_channel: dict[str, dict[str, list[Any]]] = {url: {} for url in channels.urls}
    for record in (r for per_source in found for r in per_source):
        url = str(record.channel or "").rstrip("/")
        by_channel.setdefault(url, {}).setdefault(str(record.name.normalized), []).append(record)
    out: dict[str, tuple[str, list[Any]]] = {}
    for url, mine in by_channel.items():  # the configured order: the first channel wins
        for name, recs in mine.items():
            out.setdefault(name, (url, recs))
    return out


def newest(recs: Sequence[RepoDataRecord]) -> RepoDataRecord:
    """The latest build of the latest version (by build number, then time)."""
    return max(
        recs,
        key=lambda r: (r.version, r.build_number, r.timestamp.timestamp() if r.timestamp else 0.0),
    )


def info(name: str, options: CondaOptions) -> PackageInfo:
    """A conda package's versions, licence, dependencies and subdir in the default channels."""
    key = validate_name(name)
    channels = open_channels(options)
    found = records(channels, [key])
    if key not in found:
        raise PackageNotFound(
            f"no package named {name!r} in the conda channels {', '.join(channels.urls)}"
        )
    url, recs = found[key]
    latest = newest(recs)
    versions = sorted({r.version for r in recs}, reverse=True)
    return PackageInfo(
        name=str(latest.name.normalized),
        source="conda",
        where=url,
        versions=tuple(str(v) for v in versions),
        latest=str(latest.version),
        license=latest.license or None,
        notes=(channels.note,) if channels.note else (),
        offline=channels.offline,
        depends=tuple(latest.depends),
        subdir=latest.subdir,
    )
