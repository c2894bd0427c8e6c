"""The policy as users and administrators see it: ``policy``, ``policy --check``, advisories.

* ``policy``: the effective policy, where each part came from, where a policy
  is looked for, and notes (a policy URL that could not be fetched).
* advisories: an env holding a version the policy now refuses (a security
  advisory, say) is told so by ``envs``, the panel and ``%userpkg``, with the
  one command that fixes it (``update NAME``: the solver then picks the
  nearest allowed version).
* ``policy --check``: every env against a policy (the effective one, or a
  new one before it is deployed), and why each violation is one.

Reading an env's packages here needs no engine: names and versions come from
the locks' text (a conda lock's package URLs carry both).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..manifest import Manifest
from ..pylock import parse_lock
from ..store import EnvStore
from ..summary import held_of
from .rules import Policy, Verdict, normalize

#: What an env sees without holding it (its kind's ``base``), by its manifest.
BaseOf = Callable[[Manifest], Iterable[str]]


def held(store: EnvStore, env: str, revision: int) -> list[tuple[str, str, str]]:
    """(name, version, source) of every package an env's revision holds."""
    pypi = [(p.name, p.version) for p in parse_lock(store.read_lock(env, revision)).values()]
    return held_of(pypi, store.read_conda_lock(env, revision))


def advisories(
    policy: Policy, packages: Iterable[tuple[str, str, str]], env: str
) -> list[dict[str, Any]]:
    """What an env holds that the policy refuses, with the fix (as verb arguments)."""
    if not (policy.blocked_packages or policy.blocked_versions or policy.allowed_packages):
        return []
    out = []
    for name, version, source in packages:
        verdict = policy.version_verdict(name, version, source)
        if verdict is None:
            continue
        whole = policy.package_verdict(name, source) is not None
        fix = f"remove {name} -n {env}" if whole else f"update {name} -n {env}"
        out.append(_entry(name, version, source, verdict, fix, _change(fix, name, env)))
    return out


def _entry(
    name: str,
    version: str,
    source: str,
    verdict: Verdict,
    fix: str,
    change: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An advisory: what is refused and why, the fix as a command (``fix``, for a person)
    and, when the fix is a change of packages, as a change request a front end plans
    as it is (``change``), never by reading the command back."""
    return {
        "package": name,
        "version": version,
        "source": source,
        **verdict.to_dict(),
        "fix": fix,
        "change": change,
    }


def _change(fix: str, name: str, env: str) -> dict[str, Any]:
    """The change request of a package fix (``update NAME -n ENV`` and the like)."""
    return {"verb": fix.split(" ", 1)[0], "env": env, "packages": [name]}


def describe(policy: Policy, places: list[str], notes: Iterable[str]) -> dict[str, Any]:
    """``policy``'s answer: the rules, each field's origin, where policies are looked for."""
    return {
        "policy": policy.to_dict(),
        "origins": dict(policy.origins),
        "sources": places,
        "notes": list(notes),
        "error": policy.error or None,
    }


def check_env(
    policy: Policy,
    store: EnvStore,
    env: str,
    revision: int,
    channels: Iterable[str],
    base_of: BaseOf,
) -> list[dict[str, Any]]:
    """Every way one env breaks ``policy``: packages, licences (PyPI, from the installed
    metadata), channels, required packages (``base_of`` names what an env sees beside
    what it holds: its kind knows, the policy does not)."""
    packages = held(store, env, revision)
    found = advisories(policy, packages, env)
    if policy.allowed_licenses:
        for name, version, source in packages:
            if source != "pypi":
                continue
            verdict = policy.license_verdict(name, _installed_licence(store.prefix(env), name))
            if verdict is not None:
                fix = f"remove {name} -n {env}"
                found.append(_entry(name, version, source, verdict, fix, _change(fix, name, env)))
    if policy.channels and not policy.user_channels:
        from .enforce import curated_urls

        curated = {u.rstrip("/") for u in curated_urls(policy)}
        for url in channels:
            if url.rstrip("/") not in curated:
                verdict = Verdict("channels", f"{url} is not a curated channel")
                found.append(_entry("(channel)", url, "conda", verdict, f"delete {env}"))
    names = {normalize(n) for n, _, _ in packages}
    if policy.required_packages:  # a layer imports its base's packages too
        names |= {normalize(n) for n in base_of(store.read_manifest(env, revision))}
    for required in policy.required_packages:
        if normalize(required) not in names:
            verdict = Verdict("required_packages", f"{required} must be in every environment")
            fix = f"install {required} -n {env}"
            found.append(_entry(required, "", "", verdict, fix, _change(fix, required, env)))
    return found


def _installed_licence(prefix: Path, name: str) -> str | None:
    from .licences import of_metadata

    key = normalize(name).replace("-", "_")
    for meta in prefix.glob("lib/python*/site-packages/*.dist-info/METADATA"):
        dist = meta.parent.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        if normalize(dist).replace("-", "_") == key:
            return of_metadata(meta.read_text(encoding="utf-8", errors="replace"))
    return None


def _violation(rule: str, reason: str, fix: str) -> dict[str, Any]:
    return {
        "package": "",
        "version": "",
        "source": "",
        "rule": rule,
        "reason": reason,
        "advisory": "",
        "fix": fix,
    }


def check_all(policy: Policy, store: EnvStore, base_of: BaseOf) -> list[dict[str, Any]]:
    """``policy --check``: each env that violates ``policy``, with its violations; an env
    that cannot be read is one too (``doctor`` says more)."""
    from ..errors import UserPkgError

    out: list[dict[str, Any]] = []
    names = store.names()
    if policy.max_envs is not None and len(names) > policy.max_envs:
        reason = f"{len(names)} environments, more than {policy.max_envs}"
        out.append({"env": None, "violations": [_violation("max_envs", reason, "delete NAME")]})
    for name in names:
        try:
            revision = store.current(name)
            channels = store.read_manifest(name, revision).channels
            found = check_env(policy, store, name, revision, channels, base_of)
        except (UserPkgError, OSError, ValueError) as exc:
            found = [_violation("readable", f"cannot be read: {exc}", f"doctor -n {name}")]
        if found:
            out.append({"env": name, "violations": found})
    return out
