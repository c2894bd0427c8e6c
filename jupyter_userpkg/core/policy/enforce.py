"""The policy where packages are chosen: before, during and after a solve.

* Before: a request naming a refused package, or only refused versions, is
  turned down with the rule, its reason and the nearest allowed version.
* During: what the policy refuses is taken from the solver's choices.  The
  engines take no filter, so the solve is repeated with constraints that
  exclude exactly the refused versions of the packages it chose (usually no
  repeat at all: a plan that holds nothing refused is final), so an unpinned
  request ends on the newest allowed version.  The snapshot date goes to the
  engines directly (uv's ``--exclude-newer``, rattler's ``exclude_newer``).
* After: the pipeline's check step looks at the final plan once more (a
  rollback does not solve; required packages must stay), see :func:`check_plan`.

The helpers are given the engines' lookups as functions: nothing here runs one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import PolicyDenied, UserPkgError, first_line
from ..options import CondaOptions
from .rules import Policy, Verdict, _pattern, normalize

#: Rounds of "solve, exclude what is refused, solve again" before giving up.  Each
#: round excludes every refused version of every package chosen so far, so a round
#: only repeats when the solver turns to packages it had not chosen before.
MAX_ROUNDS = 32

#: name -> (version, verdict): what the rounds excluded, for the error when nothing else fits.
Reasons = dict[str, tuple[str, Verdict]]


def refused_in_solve(reasons: Reasons, why: UserPkgError) -> PolicyDenied:
    """No solution within the policy once the refused versions are excluded: say which
    rule took them, then the solver's explanation."""
    said = "; ".join(f"{n} {v} is {verdict.because()}" for n, (v, verdict) in reasons.items())
    rules = ", ".join(dict.fromkeys(verdict.rule for _, verdict in reasons.values()))
    details = "\n".join(filter(None, [why.message, why.details]))
    return PolicyDenied(
        f"no solution within the administrator's policy: {said}", details=f"{rules}\n{details}"
    )


def denied(what: str, verdict: Verdict, nearest: str | None = None) -> PolicyDenied:
    """The error every front end shows: package, rule, reason, nearest allowed version."""
    message = f"{what} is {verdict.because()}"
    if nearest:
        message += f"; the nearest allowed version is {nearest}"
    return PolicyDenied(message, details=verdict.rule)


def _sort_key(version: str) -> Any:
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def nearest_allowed(
    versions: Iterable[str], allowed: Callable[[str], bool], wanted: Sequence[str]
) -> str | None:
    """The allowed version closest to the ``wanted`` ones: the lowest above them, else
    the highest below."""
    ordered = sorted(set(versions), key=_sort_key)
    if not ordered:
        return None
    top = max((_sort_key(w) for w in wanted), default=_sort_key(ordered[-1]))
    above = [v for v in ordered if _sort_key(v) > top and allowed(v)]
    if above:
        return above[0]
    below = [v for v in ordered if allowed(v)]
    return below[-1] if below else None


def check_names(policy: Policy, names: Iterable[str], source: str) -> None:
    """Refuse a request for a package the policy refuses whatever its version."""
    for name in names:
        verdict = policy.package_verdict(name, source)
        if verdict is not None:
            raise denied(name, verdict)


# ------------------------------------------------------------------ PyPI


def check_requirements(
    policy: Policy, requirements: Iterable[str], versions_of: Callable[[str], list[str]]
) -> None:
    """Before a PyPI solve: refused names, and pins only refused versions satisfy."""
    from packaging.requirements import Requirement

    reqs = [Requirement(r) for r in requirements]
    check_names(policy, (r.name for r in reqs), "pypi")
    for req in reqs:
        if not req.specifier or not _has_version_rule(policy, req.name):
            continue
        offered = versions_of(req.name)
        wanted = [v for v in offered if req.specifier.contains(v, prereleases=True)]
        verdicts = [policy.version_verdict(req.name, v, "pypi") for v in wanted]
        if wanted and all(verdicts):
            ok = [v for v in offered if policy.version_verdict(req.name, v, "pypi") is None]
            nearest = nearest_allowed(ok, lambda _v: True, wanted)
            shown = f"{req.name} {wanted[0]}" if len(wanted) == 1 else f"{req.name}{req.specifier}"
            first = verdicts[0]
            assert first is not None
            raise denied(shown, first, nearest)


def _has_version_rule(policy: Policy, name: str) -> bool:
    key = normalize(name)
    return any(_pattern(r.name).fullmatch(key) for r in policy.rules_for(key, "blocked_versions"))


def pypi_exclusions(
    policy: Policy,
    chosen: Iterable[tuple[str, str]],
    versions_of: Callable[[str], list[str]],
    kept: frozenset[tuple[str, str]] = frozenset(),
    reasons: Reasons | None = None,
) -> list[str]:
    """Constraints that keep uv off the refused versions it chose (none: the lock is fine).

    A package refused as a whole cannot be excluded by a version: that is an
    error naming it (it came in as a dependency of what was asked for).
    ``kept`` (name, version) pairs are installed already and may stay.
    """
    out = []
    for name, version in chosen:
        if (normalize(name), version) in kept:
            continue
        verdict = policy.version_verdict(name, version, "pypi")
        if verdict is None:
            continue
        if policy.package_verdict(name, "pypi") is not None:
            raise denied(f"{name} (a dependency of the request)", verdict)
        if reasons is not None:
            reasons.setdefault(name, (version, verdict))
        blocked = {version} | {
            v for v in versions_of(name) if policy.version_verdict(name, v, "pypi") is not None
        }
        out.append(f"{name}" + ",".join(f"!={v}" for v in sorted(blocked, key=_sort_key)))
    return out


def check_pypi_licences(
    policy: Policy, chosen: Iterable[tuple[str, str]], licence_of: Callable[[str, str], str | None]
) -> None:
    """Every package the plan adds must declare an allowed licence."""
    if not policy.allowed_licenses:
        return
    for name, version in chosen:
        verdict = policy.license_verdict(name, licence_of(name, version))
        if verdict is not None:
            raise denied(f"{name} {version}", verdict)


# ------------------------------------------------------------------ conda


def record_verdict(policy: Policy, record: Any) -> Verdict | None:
    """A conda record's verdict: name, version and licence (repodata's ``license``).

    Judged once per (name, version, licence) for the policy's life: a solve repeats them.
    """
    key = (record.name.normalized, str(record.version), getattr(record, "license", None))
    memo = policy.memo
    if key not in memo:
        verdict = policy.version_verdict(key[0], key[1], "conda")
        if verdict is None and policy.allowed_licenses:
            verdict = policy.license_verdict(key[0], key[2])
        memo[key] = verdict
    return memo[key]


def conda_exclusions(
    policy: Policy,
    records: Iterable[Any],
    records_of: Callable[[list[str]], list[Any]],
    kept: frozenset[tuple[str, str]] = frozenset(),
    reasons: Reasons | None = None,
) -> list[str]:
    """MatchSpec constraints that keep the solver off every refused version it chose.

    ``kept`` (name, version) pairs are installed and stay: a change to other
    packages does not move them (``update NAME`` does; ``envs`` says so).
    """
    refused: dict[str, Verdict] = {}
    for record in records:
        if (record.name.normalized, str(record.version)) in kept:
            continue
        verdict = record_verdict(policy, record)
        if verdict is not None:
            name = record.name.normalized
            if policy.package_verdict(name, "conda") is not None:
                raise denied(f"{name} (a dependency of the request)", verdict)
            refused.setdefault(name, verdict)
            if reasons is not None:
                reasons.setdefault(name, (str(record.version), verdict))
    if not refused:
        return []
    by_name: dict[str, set[str]] = {n: set() for n in refused}
    for record in records_of(sorted(refused)):
        name = record.name.normalized
        if name in by_name and record_verdict(policy, record) is not None:
            by_name[name].add(str(record.version))
    return [f"{name} " + ",".join(f"!={v}" for v in sorted(vs)) for name, vs in by_name.items()]


def check_conda_specs(
    policy: Policy, specs: Sequence[Any], records_of: Callable[[list[str]], list[Any]]
) -> None:
    """Refused names, and specs only refused records satisfy (after a solve that failed)."""
    names = [s.name.normalized for s in specs if s.name is not None]
    check_names(policy, names, "conda")
    by_name: dict[str, list[Any]] = {}
    for record in records_of(names):
        by_name.setdefault(record.name.normalized, []).append(record)
    for spec in specs:
        own = by_name.get(spec.name.normalized, []) if spec.name is not None else []
        refused = {id(r): record_verdict(policy, r) for r in own}
        if not any(refused.values()):
            continue
        matching = [r for r in own if spec.matches(r)]
        if matching and all(refused[id(r)] for r in matching):
            ok = {str(r.version) for r in own if refused[id(r)] is None}
            wanted = sorted({str(r.version) for r in matching}, key=_sort_key)
            nearest = nearest_allowed(ok, lambda _v: True, wanted)
            first = refused[id(matching[0])]
            assert first is not None
            what = f"{spec.name.normalized} {wanted[0]}" if len(wanted) == 1 else str(spec)
            raise denied(what, first, nearest)


def repin_conda(
    policy: Policy,
    requests: dict[str, str],
    names: Iterable[str],
    records_of: Callable[[list[str]], list[Any]],
    parse: Callable[[str], Any],
) -> dict[str, str]:
    """``update NAME`` of a conda request that matches only records the policy now refuses
    (``consec 2.1`` once 2.x is blocked): the request pinned to the nearest allowed
    version instead (its channel kept), so the advised fix works."""
    out: dict[str, str] = {}
    for name in names:
        text = requests.get(name)
        if not text:
            continue
        spec = parse(text)
        own = [r for r in records_of([name]) if r.name.normalized == name]
        matching = [r for r in own if spec.matches(r)]
        if not matching or any(record_verdict(policy, r) is None for r in matching):
            continue
        ok = {str(r.version) for r in own if record_verdict(policy, r) is None}
        nearest = nearest_allowed(ok, lambda _v: True, [str(r.version) for r in matching])
        if nearest is not None:
            channel = text.split("::", 1)[0] + "::" if "::" in text else ""
            out[name] = f"{channel}{name} =={nearest}"
    return out


# ------------------------------------------------------------------ plans


def check_plan(
    policy: Policy, changes: Iterable[Any], channels: Iterable[str], conda: CondaOptions
) -> None:
    """The final plan (also a rollback's): nothing refused comes in, no channel but the
    curated ones is newly used (``channels``: names or URLs).  Required packages:
    :func:`check_required`."""
    for change in changes:
        if change.source == "base" or change.action == "remove":
            continue
        version = (change.new or "").split(" (", 1)[0]  # "1.0 (build)": a rebuild of 1.0
        verdict = policy.version_verdict(change.name, version, change.source)
        if verdict is not None:
            raise denied(f"{change.name} {change.new}", verdict)
    channels = list(channels)
    if channels and not policy.user_channels:
        check_channels(policy, channels, conda)


def check_required(
    policy: Policy, changes: Iterable[Any], have: Iterable[str], creating: bool
) -> None:
    """The env after the plan (``have``: every name it can import, a layer's base too)
    holds each required package: a new env must have them all, a change must not take
    one away.  An env that lacked one before the rule is told by ``policy --check``."""
    present = {normalize(n) for n in have}
    removed = {normalize(c.name) for c in changes if c.action == "remove"}
    missing = [
        n
        for n in policy.required_packages
        if normalize(n) not in present and (creating or normalize(n) in removed)
    ]
    if not missing:
        return
    names = ", ".join(missing)
    if creating:
        raise PolicyDenied(
            f"{names} {'is' if len(missing) == 1 else 'are'} required in every environment by "
            f"the administrator's policy (required_packages); add {names} to what you create"
        )
    raise PolicyDenied(
        f"{names} {'is' if len(missing) == 1 else 'are'} required in every environment by "
        "the administrator's policy (required_packages); it cannot be removed"
    )


def check_channels(policy: Policy, channels: Iterable[str], conda: CondaOptions) -> None:
    """Refuse a channel (name or URL) other than the curated ones, when users may not add any."""
    if policy.user_channels:
        return
    from ..conda.specs import channel_urls

    curated = curated_urls(policy)
    for channel in channels:
        for url in channel_urls(channel, conda.channel_alias):
            verdict = policy.channel_verdict(url, curated)
            if verdict is not None:
                raise denied(f"channel {channel}", verdict)


def curated_urls(policy: Policy) -> list[str]:
    """The policy's channels as URLs.  Names resolve against the policy's alias (else
    conda's default one), never a user's: a user's ``channel_alias`` cannot make a
    curated name stand for another server."""
    from ..conda.specs import channel_urls
    from ..options import DEFAULT_CHANNEL_ALIAS

    resolve = policy.channel_alias or DEFAULT_CHANNEL_ALIAS
    return [u for c in policy.channels for u in channel_urls(c, resolve)]


def check_conda_records(
    policy: Policy,
    records: Iterable[Any],
    changed: set[str],
    served: Callable[[list[str], list[str]], list[Any]] | None,
) -> None:
    """The conda records a plan brings in (``changed`` names), however it came to them
    (a solve, an imported lock, a rollback, a channel named in a spec): each from a
    curated channel when users may not add any, none refused (licence included), none
    published after the snapshot.

    A lock's own words about a package (its channel, licence, date, version) are not
    taken: each record is judged as its channel serves it (``served(names, channels)``:
    the channel's repodata records), found by the URL it is downloaded from, so a
    hand-edited lock cannot vouch for what it installs.  ``served`` None: the records are the
    channels' own already (this process's solve chose them), judged as they are.
    """
    mine = [r for r in records if r.name.normalized in changed]
    curated = None if policy.user_channels else curated_urls(policy)
    by_channel: dict[str, list[Any]] = {}
    for record in mine:
        # The channel the record names (a lock's word is checked below: the channel must
        # serve exactly the file the record's URL names), else the URL's own.
        channel = str(record.channel or str(record.url).rsplit("/", 2)[0]).rstrip("/")
        verdict = policy.channel_verdict(channel, curated) if curated is not None else None
        if verdict is not None:
            raise denied(f"{record.name.normalized} {record.version} (from {channel})", verdict)
        by_channel.setdefault(channel, []).append(record)
    snapshot = policy.snapshot_time
    for channel, wanted in by_channel.items():
        names = sorted({r.name.normalized for r in wanted})
        try:
            own = wanted if served is None else served(names, [channel])
            index = {str(r.url): r for r in own}
        except Exception as exc:
            raise PolicyDenied(
                f"{', '.join(names)} cannot be checked against the administrator's policy: "
                f"{channel} cannot be read ({first_line(exc)}); try again when it can"
            ) from None
        for record in wanted:
            real = index.get(str(record.url))
            what = f"{record.name.normalized} {record.version}"
            if real is None or (record.sha256 and real.sha256 and record.sha256 != real.sha256):
                raise PolicyDenied(
                    f"{what} ({record.file_name}) is not a package {channel} serves, so the "
                    "administrator's policy cannot judge it; install it from its channel"
                )
            verdict = record_verdict(policy, real)
            if verdict is not None:
                raise denied(f"{real.name.normalized} {real.version}", verdict)
            when = getattr(real, "indexed_timestamp", None) or real.timestamp  # as the solver
            if snapshot is not None and when is not None and when > snapshot:
                rule = Verdict("snapshot", f"published after the snapshot date {policy.snapshot}")
                raise denied(f"{real.name.normalized} {real.version}", rule)


def policy_additions(policy: Policy, specs: Iterable[str], imported: Any = None) -> list[str]:
    """The policy's required and default packages a new env gets, unless named already.

    Made from a file (``imported``, an :class:`.exports.Imported`): for a file to solve
    from, the required ones only; a lock installed exactly gets nothing added (it must
    hold them: :func:`check_required`).
    """
    import re

    def name_of(spec: str) -> str:
        return normalize(re.split(r"[\s=<>!~\[;(]", spec.split("::")[-1].strip(), maxsplit=1)[0])

    wanted: tuple[str, ...] = (*policy.required_packages, *policy.default_packages)
    if imported is not None:
        if imported.lock_text is not None or imported.conda_lock_text is not None:
            return []
        specs = [*specs, *imported.conda_specs, *map(str, imported.requirements)]
        wanted = policy.required_packages
    named = {name_of(s) for s in specs}
    out = []
    for spec in wanted:
        if name_of(spec) not in named:
            named.add(name_of(spec))
            out.append(spec)
    return out
