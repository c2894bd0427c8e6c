"""The policy around a PyPI solve: what the index offers, and what a wheel declares.

:func:`solve_within` wraps ``uv pip compile`` in the one policy loop
(:mod:`.within`): it refuses requests the policy refuses (with the nearest
allowed version), solves, and solves again with constraints excluding the
refused versions (or licences) uv chose, until the lock holds none.  With no
package or licence rule it costs nothing but the one solve.

Licences come from each wheel's core metadata: the index's PEP 658 metadata
file beside the wheel, else the index's JSON API (PyPI has one), else the wheel
itself when it is small.  A licence that cannot be found is not an allowed one.
"""

from __future__ import annotations

import contextlib
import tomllib
import zipfile
from collections.abc import Callable, Mapping, Sequence
from io import BytesIO
from typing import Any

from ..options import SearchOptions, UvOptions
from . import enforce as policyenforce
from . import within
from .licences import of_metadata
from .rules import Policy, normalize

#: Largest wheel fetched whole just to read its licence.
_WHOLE_WHEEL_LIMIT = 20 * 1024 * 1024


def solve_within(
    policy: Policy,
    options: UvOptions,
    requirements: Sequence[str],
    current_lock: str,
    solve: Callable[[list[str]], str],
    *,
    moving: Sequence[str] = (),
    held: Mapping[str, str] | None = None,
) -> str:
    """``solve(extra_constraints)`` within the policy's package and version rules.

    Packages of ``current_lock`` may keep a version the policy now refuses
    unless they are ``moving`` (named in ``update``): ``envs`` tells the user.
    ``held`` packages (the base's, conda's) are not this layer's to judge.
    """
    if not (policy.restricts_packages or policy.allowed_licenses or not policy.pypi):
        return solve([])
    licences = _Licences(options) if policy.allowed_licenses else None
    versions = _Versions(options)
    moved = {normalize(n) for n in moving}
    old = {k: v for k, v in _chosen(current_lock) if k not in moved}
    # A request the env already satisfies stays as it is, even if the policy now refuses
    # what it holds (``envs`` says so, ``update`` fixes it): only new ones are judged.
    policyenforce.check_requirements(policy, _unsettled(requirements, old), versions)
    kept = frozenset(old.items()) | {(normalize(n), v) for n, v in (held or {}).items()}

    def judge(text: str, reasons: policyenforce.Reasons) -> list[str]:
        chosen = _chosen(text)
        more = policyenforce.pypi_exclusions(policy, chosen, versions, kept, reasons)
        if not more and licences is not None:  # steered off a licence the policy refuses
            more = _licence_exclusions(policy, chosen, licences, kept, reasons)
        return more  # none: the plan's check step judges licences again (check_licences)

    return within.solve_within(solve, judge)


def _licence_exclusions(
    policy: Policy,
    chosen: Sequence[tuple[str, str]],
    licences: _Licences,
    kept: frozenset[tuple[str, str]],
    reasons: policyenforce.Reasons,
) -> list[str]:
    """``name!=version`` for each chosen version whose licence the policy refuses (an
    older release under another licence may be allowed)."""
    licences.prefetch([c for c in chosen if c not in kept])
    out = []
    for name, version in chosen:
        if (name, version) in kept:
            continue
        verdict = policy.license_verdict(name, licences(name, version))
        if verdict is not None:
            reasons.setdefault(name, (version, verdict))
            out.append(f"{name}!={version}")
    return out


def _unsettled(requirements: Sequence[str], held: Mapping[str, str]) -> list[str]:
    """The requirements the env's held versions do not satisfy already."""
    from packaging.requirements import Requirement

    out = []
    for text in requirements:
        req = Requirement(text)
        version = held.get(normalize(req.name))
        if version is None or not req.specifier.contains(version, prereleases=True):
            out.append(text)
    return out


def repin_refused(
    policy: Policy, options: UvOptions, requests: Mapping[str, str], names: Sequence[str]
) -> list[str]:
    """``update NAME`` of a request that asks only for versions the policy now refuses
    (``requests==2.30.0`` once 2.30.0 is blocked): the request pinned to the nearest
    allowed version instead, so the advised fix works.  Other requests are left alone."""
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    if not policy.restricts_packages:
        return []
    versions = _Versions(options)
    out = []
    for name in names:
        text = requests.get(normalize(name)) or requests.get(name)
        if not text:
            continue
        req = Requirement(text)
        if not req.specifier:
            continue
        offered = versions(req.name)
        wanted = [v for v in offered if req.specifier.contains(v, prereleases=True)]
        if not wanted or any(policy.version_verdict(req.name, v, "pypi") is None for v in wanted):
            continue
        ok = [v for v in offered if policy.version_verdict(req.name, v, "pypi") is None]
        nearest = policyenforce.nearest_allowed(ok, lambda _v: True, wanted)
        if nearest is not None:
            req.specifier = SpecifierSet(f"=={nearest}")
            out.append(str(req))
    return out


def check_licences(policy: Policy, options: UvOptions, changes: Sequence[Any]) -> None:
    """Every PyPI package a plan adds or moves declares an allowed licence (also when the
    plan installs a lock exactly, or rolls back)."""
    if not policy.allowed_licenses:
        return
    new = [
        (normalize(c.name), str(c.new))
        for c in changes
        if c.source == "pypi" and c.action != "remove" and c.new
    ]
    if new:
        licences = _Licences(options)
        licences.prefetch(new)
        policyenforce.check_pypi_licences(policy, new, licences)


def check_asked(policy: Policy, options: UvOptions, requirements: Sequence[str]) -> None:
    """Refuse requirements only refused versions satisfy (the plan's check step)."""
    policyenforce.check_requirements(policy, requirements, _Versions(options))


def _chosen(lock_text: str) -> list[tuple[str, str]]:
    if not lock_text.strip():
        return []
    packages = tomllib.loads(lock_text).get("packages", [])
    return [(normalize(str(p["name"])), str(p.get("version", ""))) for p in packages]


class _Versions:
    """Every version the default index offers of a package (fetched fresh, once per solve)."""

    def __init__(self, options: UvOptions) -> None:
        self.options = options
        self.known: dict[str, list[str]] = {}

    def __call__(self, name: str) -> list[str]:
        from ..errors import PackageNotFound
        from ..pypi.index import PypiIndex, index_url

        key = normalize(name)
        if key not in self.known:
            search = SearchOptions(info_ttl=0.0, offline=self.options.offline)
            try:
                info = PypiIndex(index_url(self.options), search).details(key)
                self.known[key] = list(info.versions)
            except PackageNotFound:
                self.known[key] = []
        return self.known[key]


#: (indexes, name, version) -> the licence its wheel declares.
_LICENCES: dict[tuple[tuple[str, ...], str, str], str] = {}


class _Unreachable(Exception):
    """An index did not answer (the network, not the package)."""


class _Licences:
    """The licence a package's wheel declares (None: none found).

    The wheel is one the policy's indexes list for that version, in the order uv asks
    them (the extra indexes, then the default one: uv takes a package from the first
    index that has it), never a URL a lock names: an imported lock could point at a
    wheel whose metadata says anything.  Per index: its JSON API for that release (one
    request, on PyPI), else the wheel's PEP 658 metadata, else the wheel itself when it
    is small.  When no index can be reached, that is said, not taken for "no licence".
    """

    def __init__(self, options: UvOptions) -> None:
        from ..pypi.index import index_url

        self.options = options
        order = [*options.extra_index_urls, index_url(options)]
        self.indexes = tuple(dict.fromkeys(order))

    def __call__(self, name: str, version: str) -> str | None:
        """Found once per package and version for this process (a release's metadata
        does not change)."""
        key = (self.indexes, name, version)
        if key not in _LICENCES:
            found = self._lookup(name, version)
            if found is None:
                return None
            _LICENCES[key] = found
        return _LICENCES[key]

    def prefetch(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Look up many packages side by side (a new env's dependencies, say)."""
        from concurrent.futures import ThreadPoolExecutor

        todo = [p for p in dict.fromkeys(pairs) if (self.indexes, *p) not in _LICENCES]
        if len(todo) > 1:
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(lambda pair: self(*pair), todo))

    def _lookup(self, name: str, version: str) -> str | None:
        from ..errors import BackendUnavailable

        why = "working offline" if self.options.offline else ""
        answered = False
        for index in () if self.options.offline else self.indexes:
            try:
                found, listed = _from_index(index, name, version)
            except _Unreachable as exc:
                why = str(exc)
                continue
            answered = True
            if found is not None or listed:
                return found  # the first index that has the release decides, as for uv
        if not answered:
            raise BackendUnavailable(
                f"the licence of {name} {version} cannot be checked against the "
                f"administrator's policy ({why}); try again when the package index "
                "can be reached"
            )
        return None


def _from_index(index: str, name: str, version: str) -> tuple[str | None, bool]:
    """(licence, whether the index lists the release) from one index."""
    from ..pypi.index import client

    found = _json_api(index, name, version)
    if found is not None:
        return found, True
    http = client()
    wheels = _index_wheels(index, name, version)
    for url in wheels[:1]:
        with contextlib.suppress(Exception):
            response = http.get(url + ".metadata")
            if response.status_code == 200:
                return of_metadata(response.text), True
        with contextlib.suppress(Exception):
            head = http.head(url)
            size = int(head.headers.get("content-length", "0"))
            if 0 < size <= _WHOLE_WHEEL_LIMIT:
                return _wheel_licence(http.get(url).content), True
    return None, bool(wheels)


def _index_wheels(index: str, name: str, version: str) -> list[str]:
    """An index's own wheel URLs of (name, version), from its project page."""
    from urllib.parse import urldefrag, urljoin

    import httpx

    from ..pypi.index import _ACCEPT, client
    from ..pypi.pages import file_version, page_files

    page = f"{index.rstrip('/')}/{name}/"
    try:
        response = client().get(page, headers={"Accept": _ACCEPT}, follow_redirects=True)
    except httpx.TransportError as exc:
        raise _Unreachable(f"{index} cannot be reached: {exc}") from None
    if response.status_code >= 500:
        raise _Unreachable(f"{index} answers HTTP {response.status_code}")
    try:
        files = page_files(response) if response.status_code == 200 else []
    except Exception:  # a page that cannot be read lists nothing
        return []
    out = []
    for f in files:
        filename, href = str(f.get("filename", "")), str(f.get("url") or "")
        if filename.endswith(".whl") and href and file_version(filename, name) == version:
            out.append(urldefrag(urljoin(str(response.url), href))[0])
    return out


def _json_api(index: str, name: str, version: str) -> str | None:
    """The licence an index's JSON API gives for one release (None: no API, or none),
    read as core metadata is (:func:`.licences.of_fields`)."""
    from ..pypi.index import PypiIndex, client
    from .licences import of_fields

    api = PypiIndex(index, SearchOptions()).json_api(name)
    if api is None:
        return None
    with contextlib.suppress(Exception):
        response = client().get(api.removesuffix("/json") + f"/{version}/json")
        if response.status_code == 200:
            info: dict[str, Any] = response.json()["info"]
            return of_fields(
                info.get("license_expression"), info.get("classifiers") or [], info.get("license")
            )
    return None


def _wheel_licence(data: bytes) -> str | None:
    with zipfile.ZipFile(BytesIO(data)) as zf:
        for member in zf.namelist():
            if member.endswith(".dist-info/METADATA") and member.count("/") == 1:
                return of_metadata(zf.read(member).decode("utf-8", "replace"))
    return None
