"""The administrator's policy: what users may install, as one frozen value.

A policy is read from places an ordinary user cannot change (see
:mod:`.policysource`) and is the same for every front end.  This module holds
its model and its judgements: is this package (this version, this licence,
this channel) allowed, and if not, which rule says so and why.  Enforcement
lives where the engines are driven (:mod:`.policyenforce`); nothing here
imports an engine.

Several sources only ever tighten one another (:func:`.policysource.merge`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from ..errors import InvalidRequest

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

PackageSource = Literal["pypi", "conda"]

#: The file an administrator writes in a system or environment Jupyter config dir.
POLICY_FILE = "jupyter_userpkg_policy.json"

_NAME_RE = re.compile(r"[A-Za-z0-9*?._-]{1,200}")
_SOURCES = ("pypi", "conda")


def normalize(name: str) -> str:
    """One spelling per package for matching: PEP 503 (``-`` for runs of ``_.-``),
    lower case, which is also how conda names compare."""
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=4096)
def _pattern(text: str) -> re.Pattern[str]:
    """A glob over normalised names (``tensorflow*``, ``*-gpl``) as a regex."""
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in normalize(text)]
    return re.compile("".join(parts))


@dataclass(frozen=True)
class PackageRule:
    """A package pattern, with the reason users are shown when it refuses them."""

    name: str
    reason: str = ""
    source: PackageSource | None = None

    def matches(self, key: str, source: str) -> bool:
        return (self.source is None or self.source == source) and bool(
            _pattern(self.name).fullmatch(key)
        )


@dataclass(frozen=True)
class VersionRule:
    """Versions of one package that must not be installed (a PEP 440 specifier)."""

    name: str
    versions: str
    reason: str = ""
    advisory: str = ""
    source: PackageSource | None = None

    def matches(self, key: str, version: str, source: str) -> bool:
        if self.source is not None and self.source != source:
            return False
        if not _pattern(self.name).fullmatch(key):
            return False
        return version_in(version, self.versions, source)


@functools.lru_cache(maxsize=4096)
def _specifier(text: str) -> SpecifierSet:
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(text)


def version_in(version: str, specifier: str, source: str = "pypi") -> bool:
    """Does ``version`` fall in ``specifier``?  A conda version is compared by conda's
    rules (rattler's), which read ``1.0.1_2`` and ``2.0a``; a version neither can read
    falls in any range (a block is never dodged by a spelling), and in ``==`` only
    when named exactly."""
    from packaging.version import InvalidVersion, Version

    if source == "conda":
        found = _conda_version_in(version, specifier)
        if found is not None:
            return found
    spec = _specifier(specifier)
    try:
        return spec.contains(Version(version), prereleases=True)
    except InvalidVersion:
        if all(s.operator in ("==", "===") for s in spec):
            return any(s.version == version for s in spec)
        return True


@functools.lru_cache(maxsize=4096)
def _conda_version_in(version: str, specifier: str) -> bool | None:
    # PEP 440's ``==2.*`` is conda's ``2.*`` (conda reads ``==2.*`` as exactly 2).
    conda = ",".join(re.sub(r"^==\s*(.*\*)$", r"\1", part.strip()) for part in specifier.split(","))
    try:
        import rattler

        return bool(rattler.VersionSpec(conda).matches(rattler.Version(version)))
    except Exception:  # not a spec or version conda reads: PEP 440's answer
        return None


@dataclass(frozen=True)
class Verdict:
    """Why a package is refused: the rule (as written in the policy) and its reason."""

    rule: str
    reason: str = ""
    advisory: str = ""

    def because(self) -> str:
        """``"blocked by the policy (rule): reason (advisory X)"``: the words users see."""
        text = f"blocked by the administrator's policy ({self.rule})"
        if self.reason:
            text += f": {self.reason}"
        if self.advisory:
            text += f" (advisory {self.advisory})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "reason": self.reason, "advisory": self.advisory}


@dataclass(frozen=True)
class Policy:
    """The effective policy; the empty one allows everything and sets nothing."""

    #: PyPI index URLs: the first is the default index, the others extra ones.
    indexes: tuple[str, ...] = ()
    pypi: bool = True
    #: Curated conda channels: the default channels of a new conda env.
    channels: tuple[str, ...] = ()
    channel_alias: str = ""
    #: May users name other channels than ``channels`` (default: only if none are set)?
    allow_user_channels: bool | None = None
    allowed_packages: tuple[str, ...] = ()
    blocked_packages: tuple[PackageRule, ...] = ()
    blocked_versions: tuple[VersionRule, ...] = ()
    #: SPDX identifiers (``MIT``, ``BSD-3-Clause``); empty: any licence.
    allowed_licenses: tuple[str, ...] = ()
    #: Package patterns the licence rule does not judge (reviewed apart, metapackages).
    license_exceptions: tuple[str, ...] = ()
    required_packages: tuple[str, ...] = ()
    default_packages: tuple[str, ...] = ()
    #: Nothing published after this moment is visible (ISO 8601, UTC).
    snapshot: str = ""
    max_envs: int | None = None
    #: May uv download a managed Python for ``create --python``?
    python_downloads: bool = False
    #: The ``indexes`` and ``channels`` are the administrator's filtered mirror: a package
    #: they lack is one to ask for (``not_in_mirror``), not one that does not exist.
    mirror: bool = False
    #: How users ask for a package the mirror lacks (shown with ``not_in_mirror``).
    mirror_request_help: str = ""
    #: A search index in the mirror's format (a path or URL) that search reads instead of
    #: each user's server holding a project list; with ``mirror`` and no value, the one
    #: beside the mirror's ``pypi/simple``.
    search_index: str = ""
    #: Why the administrator's policy could not be read: then every package is refused
    #: (fail closed) until it is fixed; reading envs still works.
    error: str = ""
    #: Where each field came from (field -> a path or URL), for ``policy``.
    origins: Mapping[str, str] = field(default_factory=dict, compare=False)

    # ------------------------------------------------------------ questions

    @property
    def empty(self) -> bool:
        return self == Policy()

    @property
    def user_channels(self) -> bool:
        return not self.channels if self.allow_user_channels is None else self.allow_user_channels

    @property
    def restricts_packages(self) -> bool:
        return bool(
            self.allowed_packages or self.blocked_packages or self.blocked_versions or self.error
        )

    @property
    def snapshot_time(self) -> datetime | None:
        return parse_time(self.snapshot) if self.snapshot else None

    def package_verdict(self, name: str, source: str) -> Verdict | None:
        """Is the package as a whole refused (whatever its version)?"""
        key = normalize(name)
        if self.error:
            return Verdict(
                "unreadable", f"{self.error}; nothing can be installed until it is fixed"
            )
        if source == "pypi" and not self.pypi:
            return Verdict("pypi: false", "packages from PyPI are not allowed here")
        if self.allowed_packages and not any(matches(p, key) for p in self.allowed_packages):
            return Verdict("allowed_packages", f"{name} is not among the allowed packages")
        for rule in self.rules_for(key, "blocked_packages"):
            if rule.matches(key, source):
                return Verdict(f"blocked_packages: {rule.name}", rule.reason)
        return None

    @functools.cached_property
    def _by_name(self) -> dict[str, tuple[dict[str, list[Any]], list[Any], re.Pattern[str] | None]]:
        """Each rule list as (exact name -> rules, rules with wildcards, one regex of all
        the wildcards): a policy of a thousand rules judges a package with one lookup and
        one match."""
        out: dict[str, tuple[dict[str, list[Any]], list[Any], re.Pattern[str] | None]] = {}
        for kind in ("blocked_packages", "blocked_versions"):
            exact: dict[str, list[Any]] = {}
            globs: list[Any] = []
            for rule in getattr(self, kind):
                if "*" in rule.name or "?" in rule.name:
                    globs.append(rule)
                else:
                    exact.setdefault(normalize(rule.name), []).append(rule)
            either = "|".join(f"(?:{_pattern(r.name).pattern})" for r in globs)
            out[kind] = (exact, globs, re.compile(either) if globs else None)
        return out

    @functools.cached_property
    def memo(self) -> dict[Any, Verdict | None]:
        """Verdicts already reached (a policy never changes: they stay true)."""
        return {}

    def rules_for(self, key: str, kind: str) -> list[Any]:
        """The rules of ``kind`` that may name ``key`` (a normalised name)."""
        exact, globs, either = self._by_name[kind]
        found = list(exact.get(key, ()))
        if either is not None and either.fullmatch(key):
            found += [r for r in globs if _pattern(r.name).fullmatch(key)]
        return found

    def version_verdict(self, name: str, version: str, source: str) -> Verdict | None:
        """Is this version refused (by its package's rule or a version rule)?"""
        found = self.package_verdict(name, source)
        if found is not None:
            return found
        key = normalize(name)
        for rule in self.rules_for(key, "blocked_versions"):
            if rule.matches(key, version, source):
                return Verdict(
                    f"blocked_versions: {rule.name} {rule.versions}", rule.reason, rule.advisory
                )
        return None

    def license_verdict(self, name: str, license_text: str | None) -> Verdict | None:
        """Is this licence (an SPDX expression, a classifier or free text) refused?"""
        if not self.allowed_licenses:
            return None
        key = normalize(name)
        if any(matches(p, key) for p in self.license_exceptions):
            return None
        from .licences import allowed

        if license_text and allowed(license_text, tuple(self.allowed_licenses)):
            return None
        shown = license_text or "no licence"
        return Verdict(
            "allowed_licenses",
            f"{name} declares {shown}, which is not among the allowed licences "
            f"({', '.join(self.allowed_licenses)})",
        )

    def channel_verdict(self, channel: str, curated: Iterable[str]) -> Verdict | None:
        """Is a channel the user named refused?  ``curated`` are the policy's channels as URLs."""
        if self.user_channels or channel.rstrip("/") in {c.rstrip("/") for c in curated}:
            return None
        return Verdict(
            "channels",
            f"only the curated channels may be used ({', '.join(self.channels) or 'none'})",
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("origins", "error"):
                continue
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [v.to_dict() if hasattr(v, "to_dict") else v for v in value]
            out[f.name] = value
        out["allow_user_channels"] = self.user_channels
        return out


def _rule_to_dict(self: PackageRule | VersionRule) -> dict[str, Any]:
    return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


PackageRule.to_dict = _rule_to_dict  # type: ignore[attr-defined]
VersionRule.to_dict = _rule_to_dict  # type: ignore[attr-defined]


def parse_time(text: str) -> datetime:
    """An ISO date or date-time; naive ones are UTC."""
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# ------------------------------------------------------------------ reading


class PolicyError(InvalidRequest):
    """A policy file that cannot be read as one (said with its origin)."""

    code = "invalid_policy"


_SCALARS: dict[str, type] = {
    "pypi": bool,
    "channel_alias": str,
    "allow_user_channels": bool,
    "snapshot": str,
    "max_envs": int,
    "python_downloads": bool,
    "mirror": bool,
    "mirror_request_help": str,
    "search_index": str,
}
_STRING_LISTS = (
    "indexes",
    "channels",
    "allowed_packages",
    "allowed_licenses",
    "license_exceptions",
    "required_packages",
    "default_packages",
)


def from_data(data: object, origin: str) -> Policy:
    """Validate a policy document field by field; any doubt is an error naming the field."""

    def bad(what: str) -> PolicyError:
        return PolicyError(f"policy {origin}: {what}")

    if not isinstance(data, dict):
        raise bad("must be a JSON object")
    known = {f.name for f in fields(Policy)} - {"origins", "error"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise bad(f"unknown field {unknown[0]!r} (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for key, kind in _SCALARS.items():
        if key in data:
            value = data[key]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise bad(f"{key!r} must be a {kind.__name__}")
            values[key] = value
    for key in _STRING_LISTS:
        if key in data:
            value = data[key]
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise bad(f"{key!r} must be a list of non-empty strings")
            values[key] = tuple(value)
    for key in ("allowed_packages", "required_packages", "license_exceptions"):
        for name in values.get(key, ()):
            if not _NAME_RE.fullmatch(name):
                raise bad(f"{key!r}: {name!r} is not a package name or pattern")
    for url in values.get("indexes", ()):
        if not re.fullmatch(r"(https?|file)://\S+", url):
            raise bad(f"'indexes': {url!r} is not an http(s) or file URL")
    where = values.get("search_index", "")
    if where and not (where.startswith("/") or re.fullmatch(r"(https?|file)://\S+", where)):
        raise bad(f"'search_index': {where!r} is not an absolute path or an http(s) or file URL")
    if values.get("snapshot"):
        try:
            parse_time(values["snapshot"])
        except ValueError:
            raise bad(f"'snapshot': {values['snapshot']!r} is not an ISO date") from None
    if values.get("max_envs", 1) < 1:
        raise bad("'max_envs' must be at least 1")
    values["blocked_packages"] = tuple(_package_rules(data.get("blocked_packages", []), bad))
    values["blocked_versions"] = tuple(_version_rules(data.get("blocked_versions", []), bad))
    for spec in values.get("default_packages", ()):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(\s*[=<>!~,.*0-9A-Za-z ]*)?", spec):
            raise bad(f"'default_packages': {spec!r} is not a package spec")
    policy = Policy(**values)
    return replace(policy, origins={k: origin for k in data})


def _source(item: dict[str, Any], bad: Any, key: str) -> PackageSource | None:
    source = item.get("source")
    if source is not None and source not in _SOURCES:
        raise bad(f"{key!r}: 'source' must be one of {', '.join(_SOURCES)}")
    return source if source is None else ("pypi" if source == "pypi" else "conda")


def _package_rules(items: object, bad: Any) -> list[PackageRule]:
    if not isinstance(items, list):
        raise bad("'blocked_packages' must be a list")
    out = []
    for item in items:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or set(item) - {"name", "reason", "source"}:
            raise bad("'blocked_packages' entries are names or {name, reason, source} objects")
        name, reason = item.get("name"), item.get("reason", "")
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            raise bad(f"'blocked_packages': {name!r} is not a package name or pattern")
        if not isinstance(reason, str):
            raise bad("'blocked_packages': 'reason' must be a string")
        out.append(PackageRule(name, reason, _source(item, bad, "blocked_packages")))
    return out


def _version_rules(items: object, bad: Any) -> list[VersionRule]:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if not isinstance(items, list):
        raise bad("'blocked_versions' must be a list")
    out = []
    allowed = {"name", "versions", "reason", "advisory", "source"}
    for item in items:
        if not isinstance(item, dict) or set(item) - allowed:
            raise bad(f"'blocked_versions' entries are objects with {', '.join(sorted(allowed))}")
        name, versions = item.get("name"), item.get("versions")
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            raise bad(f"'blocked_versions': {name!r} is not a package name or pattern")
        try:
            if not isinstance(versions, str):
                raise InvalidSpecifier(str(versions))
            SpecifierSet(versions)
        except InvalidSpecifier:
            raise bad(
                f"'blocked_versions': {versions!r} ({name}) is not a version specifier "
                "such as '<2.31' or '==1.0.2'"
            ) from None
        texts = [item.get("reason", ""), item.get("advisory", "")]
        if not all(isinstance(t, str) for t in texts):
            raise bad("'blocked_versions': 'reason' and 'advisory' must be strings")
        source = _source(item, bad, "blocked_versions")
        out.append(VersionRule(name, versions, texts[0], texts[1], source))
    return out


def matches(pattern: str, key: str) -> bool:
    """Does a pattern of an allow-list (globs joined by ``&`` must all match) match a
    normalised name?"""
    return all(_pattern(part).fullmatch(key) for part in pattern.split("&"))
