""" "No module named X": which package provides ``X``, from evidence, never a guess.

Import names and distribution names differ (``import slugify`` is
``python-slugify``, ``import yaml`` is ``PyYAML``), and a table of them goes
stale and has installed the wrong thing.  The answer here carries the evidence
it rests on, gathered in this order, stopping at the first that answers:

1. ``installed``: a distribution installed in one of the user's envs, the base
   (the server's Python) or an administrator's shared env provides ``X`` by its
   ``top_level.txt`` / ``RECORD`` (a conda package by its files)
   (:mod:`.installedimports`; cached per site-packages dir, no network);
2. ``import-name``: a candidate's core metadata declares ``Import-Name: X``
   (PEP 794), read from the index's PEP 658 ``.metadata`` file or the wheel;
3. ``record``: a candidate's newest wheel on the policy's indexes installs a
   top-level ``X`` by its ``RECORD``, read with HTTP range requests
   (:mod:`.pypi.wheelfiles`).  Candidates are the names derived from ``X``:
   ``X``, ``python-X``, ``X-python``, ``pyX``, ``py-X``, normalised.  A
   candidate whose wheel installs other modules is rejected, and said so;
4. ``conda-channel``: for an env with conda channels, the same names in those
   channels: ``verified`` when the PyPI project of that name passed 2 or 3,
   else ``probably`` (the user confirms in the plan).

Nothing found: the answer says so and suggests a search.  Every package named
is judged by the administrator's policy: a refused one is named with the
refusal (the plan would refuse it too), never silently dropped or swapped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InvalidSpec
from .installedimports import Installed, Where, providers
from .options import CondaOptions, UvOptions
from .policy.rules import Policy
from .pypi.wheelfiles import WheelModules, WheelUnreadable, newest_wheel, wheel_modules
from .specs import canonical_name

_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_QUOTED = re.compile(r"""No module named ['"]?([^'"\s]+)""")


@dataclass(frozen=True)
class Evidence:
    """Why a package is said to provide the import name, in words and as data."""

    #: ``installed``, ``import-name``, ``record`` or ``conda-channel``.
    kind: str
    text: str
    #: Where it was read: env names (installed), or the index / channel URL.
    where: tuple[str, ...] = ()
    version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        where = list(self.where)
        return {"kind": self.kind, "text": self.text, "where": where, "version": self.version}


@dataclass(frozen=True)
class Provider:
    """A package that provides the import name, and how sure that is."""

    package: str
    #: ``pypi`` or ``conda``: what ``install`` takes it from.
    source: str
    #: ``verified`` (by the evidence) or ``probably`` (a conda name; the user confirms).
    confidence: str
    evidence: Evidence
    #: The policy's refusal (``{"rule", "reason", "advisory"}``), or None.
    blocked: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "source": self.source,
            "confidence": self.confidence,
            "evidence": self.evidence.to_dict(),
            "blocked": self.blocked,
        }


@dataclass(frozen=True)
class Candidate:
    """A name derived from the import name, and what the index said of it."""

    name: str
    #: ``provides``, ``rejected`` (its wheel installs other modules), ``absent``, ``unreadable``.
    verdict: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "verdict": self.verdict, "why": self.why}


@dataclass(frozen=True)
class Provides:
    """The answer for one import name: the providers (best first), what was tried."""

    name: str
    module: str
    env: str
    providers: tuple[Provider, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    notes: tuple[str, ...] = field(default=())
    #: The target env has conda channels: a PyPI package is installed with ``--pypi``.
    conda_env: bool = False

    def install_line(self, prog: str = "%userpkg", env: str | None = None) -> str | None:
        """The command that opens the plan for the best provider (None: nothing found)."""
        if not self.providers:
            return None
        best = self.providers[0]
        target = env if env is not None else self.env
        flags = f" -n {target}" if target else ""
        pypi = " --pypi" if best.source == "pypi" and self.conda_env else ""
        return f"{prog} install{flags}{pypi} {best.package}".strip()

    def to_dict(self) -> dict[str, Any]:
        best = self.providers[0] if self.providers else None
        return {
            "name": self.name,
            "module": self.module,
            "env": self.env,
            "found": best is not None,
            "package": best.package if best else None,
            "source": best.source if best else None,
            "confidence": best.confidence if best else None,
            "evidence": best.evidence.to_dict() if best else None,
            "blocked": best.blocked if best else None,
            "install": self.install_line(prog=""),
            "providers": [p.to_dict() for p in self.providers],
            "candidates": [c.to_dict() for c in self.candidates],
            "search": None if best else self.name,
            "notes": list(self.notes),
        }


def import_name(text: str) -> tuple[str, str]:
    """(top-level name, module as given) from ``X``, ``X.y`` or an error's text
    (``No module named 'X.y'``); InvalidSpec for anything else."""
    raw = text.strip()
    quoted = _QUOTED.search(raw)
    module = quoted.group(1) if quoted else raw
    if not _MODULE.fullmatch(module):
        raise InvalidSpec(
            f"{text!r} is not a module name: give the name `import` could not find, such as "
            "'slugify' or 'yaml.constructor'"
        )
    return module.split(".")[0], module


def candidate_names(name: str) -> list[str]:
    """The project names derived from an import name, in the order they are tried."""
    forms = [name, f"python-{name}", f"{name}-python", f"py{name}", f"py-{name}"]
    if name.lower().startswith("py") and len(name) > 3:
        forms.append(name[2:])  # ``pyfoo`` is often the project ``foo``'s module, too
    return list(dict.fromkeys(canonical_name(f) for f in forms))


@dataclass(frozen=True)
class Sources:
    """Where to look, as the service knows it: envs, base, indexes, channels, caches."""

    envs: tuple[tuple[str, Path], ...]
    base_dirs: tuple[Path, ...]
    uv: UvOptions
    policy: Policy
    cache: Path | None
    #: The target env's conda channels (empty: not a conda env).
    channels: tuple[str, ...] = ()
    conda: CondaOptions = field(default_factory=CondaOptions)
    #: The administrator's shared envs (``shared_envs_dirs``), as ``("shared:NAME", prefix)``.
    shared: tuple[tuple[str, Path], ...] = ()


def find_provider(text: str, env: str, sources: Sources) -> Provides:
    """The packages that provide the import name in ``text``, with their evidence."""
    name, module = import_name(text)
    conda_env = bool(sources.channels)
    found = _installed(name, sources, conda_env)
    if found:
        return Provides(name, module, env, found, conda_env=conda_env)
    if sources.uv.offline:
        note = "working offline: only installed packages were consulted"
        return Provides(name, module, env, notes=(note,), conda_env=conda_env)
    pypi, candidates, notes = verify_candidates(name, candidate_names(name), sources)
    conda: list[Provider] = []
    if conda_env:
        conda, more = _conda_candidates(name, pypi, sources)
        notes = (*notes, *more)
    ordered = [*conda, *pypi] if conda_env else pypi
    judged = tuple(_judge(p, sources.policy) for p in ordered)
    if not judged:
        notes = (*notes, f"no package known to provide {name!r}; search for it by name")
    return Provides(name, module, env, judged, tuple(candidates), tuple(notes), conda_env)


def _installed(name: str, sources: Sources, conda_env: bool) -> tuple[Provider, ...]:
    """Step 1: installed distributions, grouped by package (most holders first)."""
    from .installedimports import places

    where: list[Where] = places(sources.envs, sources.base_dirs, sources.shared)
    cache = sources.cache / "installed" if sources.cache else None
    rows = providers(name, where, cache)
    wanted = ("conda", "pypi") if conda_env else ("pypi",)
    grouped: dict[tuple[str, str], list[Installed]] = {}
    for row in rows:
        if row.source in wanted:
            grouped.setdefault((row.source, canonical_name(row.package)), []).append(row)
    order = sorted(
        grouped.values(),
        key=lambda g: (wanted.index(g[0].source), -len({r.holder for r in g}), g[0].package),
    )
    out = []
    for group in order:
        first = group[0]
        holders = tuple(dict.fromkeys(r.holder for r in group))
        said = "its files" if first.file == "conda-meta" else f"its {first.file}"
        text = (
            f"{first.package} {first.version} is installed in {_envs_text(holders)}; "
            f"{said} provide{'' if said == 'its files' else 's'} {name}"
        )
        evidence = Evidence("installed", text, holders, first.version)
        provider = Provider(first.package, first.source, "verified", evidence)
        out.append(_judge(provider, sources.policy))
    return tuple(out)


def _envs_text(holders: Sequence[str]) -> str:
    named = [_holder_text(h) for h in holders[:3]]
    more = f" and {len(holders) - 3} more" if len(holders) > 3 else ""
    return ", ".join(named) + more


def _holder_text(holder: str) -> str:
    if holder == "base":
        return "the base environment"
    if holder.startswith("shared:"):
        return f"the shared env {holder.removeprefix('shared:')!r}"
    return f"env {holder!r}"


def _judge(provider: Provider, policy: Policy) -> Provider:
    from dataclasses import replace

    verdict = policy.package_verdict(provider.package, provider.source)
    return replace(provider, blocked=verdict.to_dict() if verdict else None)


def _conda_candidates(
    name: str, pypi: Sequence[Provider], sources: Sources
) -> tuple[list[Provider], tuple[str, ...]]:
    """Step 4: the derived names in the env's channels; verified when the PyPI project of
    that name was, else ``probably``."""
    from dataclasses import replace

    from .errors import UserPkgError
    from .search import conda as condasearch

    names = candidate_names(name)
    options = replace(sources.conda, default_channels=sources.channels)
    try:
        found = condasearch.records(condasearch.open_channels(options), names)
    except UserPkgError as exc:
        return [], (f"the env's channels could not be read: {exc.message}",)
    verified = {canonical_name(p.package): p for p in pypi}
    out = []
    for key in names:
        if key not in found:
            continue
        url, recs = found[key]
        version = str(condasearch.newest(recs).version)
        also = verified.get(key)
        if also is not None:
            text = f"{key} {version} is in {url}, and its PyPI project was verified: "
            text += also.evidence.text
        else:
            text = (
                f"{key} {version} is in {url}; its name matches, but what it installs was not "
                "verified: check the plan before applying it"
            )
        sure = "verified" if also is not None else "probably"
        out.append(Provider(key, "conda", sure, Evidence("conda-channel", text, (url,), version)))
    return out, ()


# ------------------------------------------- steps 2 and 3: candidates verified on the indexes


def verify_candidates(
    name: str, names: Sequence[str], sources: Sources
) -> tuple[list[Provider], list[Candidate], tuple[str, ...]]:
    """(providers in the candidates' order, every candidate's verdict, notes)."""
    from .pypi.index import index_url

    indexes = tuple(dict.fromkeys([*sources.uv.extra_index_urls, index_url(sources.uv)]))
    with ThreadPoolExecutor(max_workers=min(8, len(names))) as workers:
        judged = list(workers.map(lambda key: _check_candidate(name, key, indexes, sources), names))
    providers = [p for p, _ in judged if p is not None]
    candidates = [c for _, c in judged]
    notes: tuple[str, ...] = ()
    if any(c.verdict == "unreadable" for c in candidates) and not providers:
        notes = ("some candidates could not be checked (the index did not answer): try again",)
    return providers, candidates, notes


def _check_candidate(
    name: str, key: str, indexes: Sequence[str], sources: Sources
) -> tuple[Provider | None, Candidate]:
    import httpx

    from .pypi.index import _ACCEPT, client, index_label

    http = client()
    for index in indexes:
        try:
            page = http.get(f"{index.rstrip('/')}/{key}/", headers={"Accept": _ACCEPT})
        except httpx.HTTPError as exc:
            return None, Candidate(key, "unreadable", f"{index_label(index)}: {exc}")
        if page.status_code in (404, 410):
            continue
        if page.status_code != 200:
            return None, Candidate(key, "unreadable", f"HTTP {page.status_code} from {page.url}")
        try:
            wheel = newest_wheel(page, key)
        except (ValueError, KeyError, TypeError):
            return None, Candidate(key, "unreadable", f"the page of {key} cannot be read")
        if wheel is None:
            why = f"{key} has no wheel to read on {index_label(index)}"
            return None, Candidate(key, "unreadable", why)
        cache = sources.cache / "wheels" if sources.cache else None
        try:
            read = wheel_modules(http, index, wheel, cache)
        except WheelUnreadable as exc:
            return None, Candidate(key, "unreadable", str(exc))
        return _decide(name, key, index, read)
    return None, Candidate(key, "absent", "no such project on the indexes")


def _decide(
    name: str, key: str, index: str, read: WheelModules
) -> tuple[Provider | None, Candidate]:
    from .pypi.index import index_label

    label = index_label(index)
    if read.import_names is not None:
        tops = sorted({n.split(".")[0] for n in read.import_names})
        if name in tops:
            text = f"{read.filename} on {label} declares Import-Name: {name} (PEP 794)"
            evidence = Evidence("import-name", text, (index,), read.version)
            return Provider(key, "pypi", "verified", evidence), Candidate(key, "provides", text)
        why = f"{read.filename} declares Import-Name {', '.join(tops) or '(none)'}, not {name}"
        return None, Candidate(key, "rejected", why)
    if name in read.modules:
        shown = ", ".join(read.modules)
        text = f"the RECORD of {read.filename} on {label} installs {shown}"
        evidence = Evidence("record", text, (index,), read.version)
        return Provider(key, "pypi", "verified", evidence), Candidate(key, "provides", text)
    shown = ", ".join(read.modules) or "no module"
    why = f"the RECORD of {read.filename} installs {shown}, not {name}"
    return None, Candidate(key, "rejected", why)
