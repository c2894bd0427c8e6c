"""The conda part of the closure: each channel's upstream repodata per subdir, the
records the policy allows, and rattler's solves of every group's specs (and of the
newest ``keep_latest`` allowed versions of each requested name) per platform subdir.

rattler solves over the allowed records only (a channel written to a temporary
directory from the upstream's own record entries), so it chooses the newest
allowed versions.  The mirror's repodata is the upstream's, filtered: entries are
copied as they are, so the upstream's repodata patches are kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .config import MirrorConfig
from .engines import Policy, detected_virtual_packages, normalize
from .judge import Judgement, judge_conda
from .pypiclosure import Found
from .records import Decision, Group, Need
from .upstream import UpstreamError

KEYS = ("packages", "packages.conda")


@dataclass
class ChannelData:
    """One upstream channel: its URL, its mirrored name and each subdir's repodata."""

    url: str
    name: str
    repodata: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: subdir -> sha256 of the upstream's repodata.json as read.
    digests: dict[str, str] = field(default_factory=dict)
    #: subdir -> the upstream's repodata.json as read (written as is when nothing is refused).
    raw: dict[str, bytes] = field(default_factory=dict)

    def records(self, subdir: str) -> Iterable[tuple[str, dict[str, Any]]]:
        data = self.repodata.get(subdir, {})
        for key in KEYS:
            yield from (data.get(key) or {}).items()


def channel_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def read_channel(url: str, subdirs: Iterable[str]) -> ChannelData:
    channel = ChannelData(url.rstrip("/"), channel_name(url))
    for subdir in subdirs:
        data = fetch(f"{channel.url}/{subdir}/repodata.json")
        channel.digests[subdir] = hashlib.sha256(data).hexdigest()
        channel.raw[subdir] = data
        channel.repodata[subdir] = json.loads(data)
    return channel


def fetch(url: str) -> bytes:
    """A file of a channel, by ``file://`` or http(s)."""
    if url.startswith("file://"):
        from urllib.request import url2pathname

        try:
            return Path(url2pathname(urlparse(url).path)).read_bytes()
        except OSError as exc:
            raise UpstreamError(f"cannot read {url}: {exc.strerror or exc}") from None
    import httpx

    try:
        response = httpx.get(url, follow_redirects=True, timeout=300)
    except httpx.HTTPError as exc:
        raise UpstreamError(f"cannot download {url}: {exc}") from None
    if response.status_code != 200:
        raise UpstreamError(f"the upstream answered {response.status_code} for {url}")
    return response.content


def conda_closure(
    config: MirrorConfig, policy: Policy, groups: Iterable[Group], found: Found
) -> list[ChannelData]:
    channels = [read_channel(url, config.conda.subdirs) for url in config.conda.channels]
    groups = [g for g in groups if g.conda or any(s == "conda" for s, _, _ in g.locked)]
    if not channels or not groups:
        return channels
    # Only a mirror with conda requests solves: its event loop and temporary channels are
    # imported here, not by every sync (a no-change PyPI sync starts faster without them).
    import asyncio
    import tempfile

    with tempfile.TemporaryDirectory(prefix="userpkg-mirror-conda-") as tmp:
        allowed = _allowed_channels(channels, policy, Path(tmp))
        asyncio.run(_solve_all(config, policy, channels, allowed, groups, found, Path(tmp)))
    return channels


def _allowed_channels(channels: list[ChannelData], policy: Policy, tmp: Path) -> list[str]:
    """Each channel with only the records the policy allows, as a local channel."""
    urls = []
    for channel in channels:
        for subdir, data in channel.repodata.items():
            kept: dict[str, dict[str, Any]] = {k: {} for k in KEYS}
            refused = 0
            for key in KEYS:
                for fn, rec in (data.get(key) or {}).items():
                    if judge_conda(policy, rec).allowed:
                        kept[key][fn] = rec
                    else:
                        refused += 1
            target = tmp / channel.name / subdir / "repodata.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            if not refused and channel.raw.get(subdir):  # the upstream's file will do
                target.write_bytes(channel.raw[subdir])
                continue
            out = {**data, **kept, "info": {**data.get("info", {}), "subdir": subdir}}
            target.write_text(json.dumps(out), encoding="utf-8")
        urls.append((tmp / channel.name).as_uri())
    return urls


def _platforms(subdirs: tuple[str, ...]) -> list[list[str]]:
    real = [s for s in subdirs if s != "noarch"]
    return [[s, "noarch"] if "noarch" in subdirs else [s] for s in real] or [["noarch"]]


async def _solve_all(
    config: MirrorConfig,
    policy: Policy,
    channels: list[ChannelData],
    allowed: list[str],
    groups: list[Group],
    found: Found,
    tmp: Path,
) -> None:
    import rattler

    gateway = rattler.Gateway(cache_dir=tmp / "cache")
    host = detected_virtual_packages()
    requested: dict[str, set[Need]] = {}

    allowed_names = {
        normalize(rec["name"])
        for channel in channels
        for subdir in channel.repodata
        for _, rec in channel.records(subdir)
        if judge_conda(policy, rec).allowed
    }

    async def solve(specs: list[str], needs: tuple[Need, ...]) -> None:
        # A name with no allowed record at all has its out lines (keep_latest): no solve.
        specs = [s for s in specs if _spec_name(s) in allowed_names]
        if not specs:
            return
        for platforms in _platforms(config.conda.subdirs):
            try:
                records = await rattler.solve(
                    sources=allowed, specs=specs, gateway=gateway,
                    platforms=platforms,  # type: ignore[arg-type]
                    virtual_packages=_virtual(platforms[0], host),  # type: ignore[arg-type]
                )  # fmt: skip
            except Exception as exc:  # the solver's explanation, as one note
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                who = ", ".join(map(str, needs))
                found.notes.append(f"{' '.join(specs)} on {platforms[0]} ({who}): {first}")
                continue
            _record(records, specs, needs, channels, found)

    for group in groups:
        _locked(group, channels, policy, found)
        # A seed approves each of its specs; an env's specs live together.
        sets = [[s] for s in group.conda] if group.need.seed else [list(group.conda)]
        for specs in sets if group.conda else []:
            await solve(specs, (group.need,))
        for spec in group.conda:
            requested.setdefault(normalize(spec.split()[0].split("=")[0]), set()).add(group.need)
    for name, needs in sorted(requested.items()):
        for version in _latest(config, policy, channels, name, tuple(sorted(needs)), found):
            await solve([f"{name} =={version}"], tuple(sorted(needs)))


#: What a platform's machines offer, for the subdirs this machine is not: generous, so
#: the mirror holds what any of them may install.
_GENERIC = {
    "linux": (("__unix", "0"), ("__linux", "6.99"), ("__glibc", "2.99")),
    "osx": (("__unix", "0"), ("__osx", "99")),
    "win": (("__win", "0"),),
}


def _virtual(subdir: str, host: list[object]) -> list[object]:
    """This machine's virtual packages for its own subdir, a generic set for the others."""
    import rattler

    if subdir in ("noarch", str(rattler.Platform.current())):
        return host
    pairs = _GENERIC.get(subdir.split("-")[0], ())
    return [
        rattler.GenericVirtualPackage(
            rattler.PackageName(name), rattler.Version(version), rattler.BuildString("0")
        )
        for name, version in pairs
    ]


def _spec_name(spec: str) -> str:
    return normalize(spec.split()[0].split("=")[0].split("<")[0].split(">")[0])


def _record(
    records: list[Any],
    specs: list[str],
    needs: tuple[Need, ...],
    channels: list[ChannelData],
    found: Found,
) -> None:
    """The solution's files as ``in`` decisions, each with its dependency path."""
    names = {r.name.normalized: r for r in records}
    roots = [normalize(s.split()[0].split("=")[0]) for s in specs]
    paths = _paths(roots, names)
    by_name = {c.name: c for c in channels}
    for record in records:
        channel = _owner(record, by_name)
        if channel is None:
            continue
        name = record.name.normalized
        why = "asked for" if name in roots else "a dependency of what was asked for"
        rule = "requested" if name in roots else "dependency"
        path = paths.get(name, (name,))
        found.add(
            Decision(
                "conda", name, str(record.version), "in", rule, why, needs, path,
                channel, record.subdir, record.file_name,
            )
        )  # fmt: skip


def _owner(record: Any, by_name: dict[str, ChannelData]) -> str | None:
    """The mirrored channel a solved record came from (its temporary channel's name)."""
    url = str(record.url)
    parts = url.rstrip("/").split("/")
    return parts[-3] if len(parts) >= 3 and parts[-3] in by_name else None


def _paths(roots: list[str], records: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    queue: list[tuple[str, tuple[str, ...]]] = [(r, (r,)) for r in roots if r in records]
    while queue:
        name, path = queue.pop(0)
        if name in out:
            continue
        out[name] = path
        for dep in records[name].depends:
            dep_name = normalize(dep.split()[0])
            if dep_name in records and dep_name not in out:
                queue.append((dep_name, (*path, dep_name)))
    return out


def _locked(group: Group, channels: list[ChannelData], policy: Policy, found: Found) -> None:
    """The files of every conda version a user's lock holds, judged."""
    wanted = {(normalize(n), v) for s, n, v in group.locked if s == "conda"}
    for channel in channels:
        for subdir in channel.repodata:
            for fn, rec in channel.records(subdir):
                if (normalize(rec["name"]), str(rec["version"])) in wanted:
                    found.add(
                        _file_decision(channel, subdir, fn, rec, policy, (group.need,), "locked")
                    )


def _file_decision(
    channel: ChannelData,
    subdir: str,
    fn: str,
    rec: dict[str, Any],
    policy: Policy,
    needs: tuple[Need, ...],
    why: str,
) -> Decision:
    j: Judgement = judge_conda(policy, rec)
    name = normalize(rec["name"])
    return Decision(
        "conda", name, str(rec["version"]), "in" if j.allowed else "out", j.rule or why,
        j.evidence, needs, (name,), channel.name, subdir, fn,
    )  # fmt: skip


def _latest(
    config: MirrorConfig,
    policy: Policy,
    channels: list[ChannelData],
    name: str,
    needs: tuple[Need, ...],
    found: Found,
) -> list[str]:
    """The newest ``keep_latest`` allowed versions of a requested conda name; the refused
    files met on the way get ``out`` lines."""
    import rattler

    files = [
        (channel, subdir, fn, rec)
        for channel in channels
        for subdir in channel.repodata
        for fn, rec in channel.records(subdir)
        if normalize(rec["name"]) == name
    ]
    versions = sorted({str(r["version"]) for *_, r in files}, key=rattler.Version, reverse=True)
    kept: list[str] = []
    for version in versions:
        of_version = [f for f in files if str(f[3]["version"]) == version]
        decisions = [
            _file_decision(c, s, fn, r, policy, needs, "keep_latest") for c, s, fn, r in of_version
        ]
        for d in decisions:
            if d.decision == "out":
                found.add(d)
        if any(d.decision == "in" for d in decisions):
            kept.append(version)
        if len(kept) >= config.pypi.keep_latest:
            break
    return kept
