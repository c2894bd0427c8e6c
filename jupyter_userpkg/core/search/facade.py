"""``search`` and ``info``: one façade over PyPI and the default conda channels.

A search matches names locally (:mod:`.namematch`): on PyPI against the
index's cached project list (:mod:`..pypi.index`), on conda against the
channels' repodata (:mod:`.conda`).  Hits are ranked exact, then the
query as a whole segment of the name (``python-slugify`` for ``slugify``),
then prefix, then substring, PyPI before conda within a rank, and cut to
``limit``; only then are versions and summaries looked up, for the hits that
are shown.  When no name is the query itself, names one edit away are
suggested ("did you mean"), for the CLI, the magic and the panel alike.

With the administrator's search index (the policy's ``search_index``, or the
filtered mirror's own: :mod:`.shared`), the sources it holds are searched there
instead, names, newest versions and summaries from one file every server of the
node maps, and its hits say they are in the mirror (first within their rank).

Without a source, both are searched, and a source that cannot be read is a
note, not a failure, as long as the other answered.  ``info`` without a source
asks PyPI first, then conda.  Whatever served from a cache because the network
did not is said in ``notes``, and ``offline`` is set.
"""

from __future__ import annotations

import concurrent.futures
import time
from dataclasses import dataclass, field, replace
from typing import Literal

from ..errors import BackendUnavailable, InvalidRequest, InvalidSpec, PackageNotFound, UserPkgError
from ..namematch import QUERY_RE, Hit, NameIndex
from ..options import CondaOptions, SearchOptions, UvOptions
from ..policy.rules import Policy
from ..pypi.index import NAME_RE, PypiIndex, index_url, validate_name
from ..searchrecords import PackageInfo, SearchHit, SearchResult
from . import conda as condasearch
from . import shared

SOURCES = ("pypi", "conda")
MAX_LIMIT = 1000
#: Hits whose details (version, summary) a search fetches from PyPI when they are not cached.
DETAILED = 10
_RANK = {"exact": 0, "segment": 1, "prefix": 2, "substring": 3}
#: How many "did you mean" names a search offers.
SUGGESTIONS = 3


@dataclass(frozen=True)
class Sources:
    """The settings a search or an info reads: the index, the channels, the caches."""

    uv: UvOptions
    conda: CondaOptions
    options: SearchOptions
    #: The administrator's search index (a path or URL; :mod:`.shared`), if any.
    shared: str = ""
    #: The indexes and channels are the administrator's filtered mirror.
    mirror: bool = False

    @classmethod
    def within(
        cls, policy: Policy, uv: UvOptions, conda: CondaOptions, options: SearchOptions
    ) -> Sources:
        """The sources the administrator's policy gives: its search index, its mirror."""
        where = shared.locate(policy.search_index, policy.mirror, policy.indexes, policy.channels)
        return cls(uv, conda, options, where, policy.mirror)

    def pypi(self) -> PypiIndex:
        return PypiIndex(index_url(self.uv), self.options)


def _check(source: str | None, limit: int = 1) -> None:
    if source is not None and source not in SOURCES:
        raise InvalidRequest(f"unknown source {source!r}; use one of: {', '.join(SOURCES)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"the limit must be between 1 and {MAX_LIMIT}, not {limit}")


def search(
    query: str, sources: Sources, *, source: str | None = None, limit: int = 50
) -> SearchResult:
    """Packages whose names match ``query``, best first, at most ``limit`` of them."""
    _check(source, limit)
    text = query.strip()
    if not QUERY_RE.fullmatch(text):
        raise InvalidSpec(
            f"{query!r} cannot be searched for: give a package name or part of one "
            "(letters, digits, '.', '_', '-' and '+')"
        )
    found = _Found()
    covered = _from_shared(text, sources, source, limit, found)
    index = sources.pypi()
    listing = channels = None
    if source in (None, "pypi") and "pypi" not in covered:
        try:
            listing = index.projects()
        except BackendUnavailable as exc:
            if source == "pypi":
                raise
            found.failed["pypi"] = exc
        else:
            found.add(listing.names, "pypi", text, limit, listing.note)
    if source in (None, "conda") and "conda" not in covered:
        try:
            channels = condasearch.open_channels(sources.conda)
        except BackendUnavailable as exc:
            if source == "conda":
                raise
            found.failed["conda"] = exc
        else:
            found.add(channels.names, "conda", text, limit, channels.note)
    if "pypi" in found.failed and channels is None and not covered:
        raise found.failed["pypi"]
    for name, error in found.failed.items():
        what = index.label if name == "pypi" else "the conda channels"
        found.notes.append(f"{what} could not be searched: {error.message}")
    # Stable: the mirror's first within a rank, then PyPI first, name order kept.
    ranked = sorted(found.hits, key=lambda h: (_RANK[h[0].match], h[2] is None))[:limit]
    fresh_list = listing is not None and listing.note is None  # the index answers: ask it
    pypi = _pypi_results([h for h, s, r in ranked if s == "pypi" and r is None], index, fresh_list)
    conda = _conda_results(
        [h for h, s, r in ranked if s == "conda" and r is None], channels, found.notes
    )
    results = tuple(
        r if r is not None else (pypi[h.key] if s == "pypi" else conda[h.name])
        for h, s, r in ranked
    )
    suggestions = [] if any(h.match == "exact" for h, _, _ in ranked) else found.suggestions
    unique = tuple(dict.fromkeys(suggestions))[:SUGGESTIONS]
    return SearchResult(text, results, tuple(found.notes), found.offline, unique)


@dataclass
class _Found:
    """What a search gathers from its sources: (hit, source, the result when the
    shared index gave it whole), notes, suggestions, the sources that failed."""

    hits: list[tuple[Hit, str, SearchHit | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    failed: dict[str, BackendUnavailable] = field(default_factory=dict)
    offline: bool = False

    def add(self, names: NameIndex, source: str, text: str, limit: int, note: str | None) -> None:
        matched = names.match(text, limit)
        self.hits += [(h, source, None) for h in matched]
        if not any(h.match == "exact" for h in matched):
            self.suggestions += names.suggest(text, SUGGESTIONS)
        if note:
            self.notes.append(note)
            self.offline = True


def _from_shared(
    text: str, sources: Sources, source: str | None, limit: int, found: _Found
) -> frozenset[str]:
    """Hits from the administrator's search index (:mod:`.shared`), whole (name, newest
    version, summary); the sources it answered for.  One that cannot be read is a note,
    and the search goes on as without it."""
    where = sources.shared
    if not where:
        return frozenset()
    path = shared.local_path(where)
    try:
        if path is None:
            opts = sources.options
            copy = shared.fetched_copy(where, opts.root(), opts.list_ttl, opts.offline)
            reading = shared.opened(copy, admin=False)
        else:
            reading = shared.opened(path)
        with reading as (data, ident):
            held = shared.sources_in(data, ident)
            covered = frozenset(s for s in SOURCES if s in held and source in (None, s))
            for src in covered:
                where_it_is = _where(src, sources)
                for got in shared.match(data, text, limit, src, ident):
                    found.hits.append((got.hit, src, _shared_hit(got, where_it_is, sources)))
            if covered and not any(h.match == "exact" for h, _, _ in found.hits):
                found.suggestions += shared.suggest(data, text, SUGGESTIONS)
    except BackendUnavailable as exc:
        found.notes.append(f"{exc.message}; searched without it")
        return frozenset()
    return covered


def _where(source: str, sources: Sources) -> str:
    """The index (PyPI) or first channel (conda) a hit of the search index is from."""
    if source == "pypi":
        return index_url(sources.uv)
    for channel in sources.conda.default_channels:
        if "://" in channel:  # a URL as it is (a name needs the engine to resolve)
            return channel.rstrip("/")
        from ..conda import specs as condaspecs

        return next(iter(condaspecs.channel_urls(channel, sources.conda.channel_alias)), "")
    return ""


def _shared_hit(got: shared.Found, where: str, sources: Sources) -> SearchHit:
    source: Literal["pypi", "conda"] = "conda" if got.source == "conda" else "pypi"
    return SearchHit(
        got.hit.name,
        source,
        where,
        got.hit.match,
        got.latest,
        got.summary or None,
        mirror=True if sources.mirror else None,
    )


def _pypi_results(hits: list[Hit], index: PypiIndex, fetch: bool) -> dict[str, SearchHit]:
    """PyPI hits (by normalised name) with what the details cache knows; the first few
    fetched when it does not know them or no longer knows them well."""
    known: dict[str, PackageInfo] = {}
    missing = []
    now = time.time()
    for i, hit in enumerate(hits):
        cached = index.cached(hit.key)
        if cached is not None and cached[1] is not None:
            known[hit.key] = cached[1]
        # Fresh details, or a fresh record that the index has none: no need to ask.
        fresh = cached is not None and now - cached[0] <= index.options.info_ttl
        if not fresh and i < DETAILED and NAME_RE.fullmatch(hit.key):
            missing.append(hit.key)
    if fetch and missing and not index.options.offline:
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, len(missing))) as pool:
            fetched = pool.map(lambda key: _quietly(index, key), missing)
            known.update((k, i) for k, i in zip(missing, fetched, strict=True) if i is not None)
    out = {}
    for hit in hits:
        info = known.get(hit.key)
        version, summary = (info.latest, info.summary) if info else (None, None)
        out[hit.key] = SearchHit(hit.name, "pypi", index.url, hit.match, version, summary)
    return out


def _quietly(index: PypiIndex, key: str) -> PackageInfo | None:
    """A search shows what it can: a detail that cannot be fetched is left out, silently."""
    try:
        return index.details(key)
    except (UserPkgError, OSError):
        return None


def _conda_results(
    hits: list[Hit], channels: condasearch.Channels | None, notes: list[str]
) -> dict[str, SearchHit]:
    """conda hits (by name) with the latest version of the first channel that has each."""
    if not hits or channels is None:
        return {}
    try:
        found = condasearch.records(channels, [h.name for h in hits])
    except BackendUnavailable as exc:
        notes.append(f"conda versions are not shown: {exc.message}")
        found = {}
    out = {}
    for hit in hits:
        url, recs = found.get(hit.name, (channels.urls[0], []))
        version = str(condasearch.newest(recs).version) if recs else None
        out[hit.name] = SearchHit(hit.name, "conda", url, hit.match, version)
    return out


def info(name: str, sources: Sources, *, source: str | None = None) -> PackageInfo:
    """One package's details: from PyPI, from the conda channels, or PyPI first, then conda."""
    _check(source)
    if source == "pypi":
        return sources.pypi().details(name)
    if source == "conda":
        return condasearch.info(name, sources.conda)
    on_pypi = NAME_RE.fullmatch(name.strip()) is not None
    if not on_pypi and not _conda_name(name):
        validate_name(name)  # raises InvalidSpec, in PyPI's words
    index = sources.pypi()
    unreachable: BackendUnavailable | None = None
    if on_pypi:
        try:
            return index.details(name)
        except PackageNotFound:
            if not sources.conda.default_channels:
                raise  # no conda channels to ask
        except BackendUnavailable as exc:
            unreachable = exc
    try:
        found = condasearch.info(name, sources.conda)
    except PackageNotFound:
        if unreachable is not None:
            raise unreachable from None
        if not on_pypi:
            raise
        channels = ", ".join(condasearch.channel_urls(sources.conda))
        raise PackageNotFound(
            f"no package named {name!r} on {index.label} or in the conda channels {channels}"
        ) from None
    except BackendUnavailable as exc:
        if unreachable is not None or not on_pypi:
            raise (unreachable or exc) from None
        raise PackageNotFound(
            f"no package named {name!r} on {index.label} (the conda channels could not be "
            f"searched: {exc.message})"
        ) from None
    if unreachable is not None:
        note = f"{index.label} could not be searched: {unreachable.message}"
        found = replace(found, notes=(*found.notes, note))
    return found


def _conda_name(name: str) -> bool:
    from ..conda.specs import validate_name as conda_name

    try:
        conda_name(name)
    except InvalidSpec:
        return False
    return True
