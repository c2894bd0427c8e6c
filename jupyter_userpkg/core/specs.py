"""Parsing of PyPI package specs (PEP 508) with ``packaging``.

Only requirements on packages from the configured indexes are accepted: no
options smuggled in as specs, no direct URLs, no local paths.  That keeps every
package subject to the index (and later, the administrator's policy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import InvalidSpec

if TYPE_CHECKING:
    from packaging.requirements import Requirement


def parse_pypi_spec(text: str) -> Requirement:
    """Parse one user-given requirement, or raise InvalidSpec saying why."""
    from packaging.requirements import InvalidRequirement, Requirement

    spec = text.strip()
    if not spec:
        raise InvalidSpec("empty package spec")
    if spec.startswith("-"):
        raise InvalidSpec(
            f"{spec!r} is an option, not a package spec; "
            "indexes and flags are set by configuration, not per package"
        )
    is_url = "://" in spec
    try:
        req = Requirement(spec)
    except InvalidRequirement:
        if is_url:  # a URL, a VCS URL with @ref, a path: not a name from the index
            raise InvalidSpec(
                f"{spec!r} is a URL; only packages from the configured index can be installed "
                "(give a name, e.g. 'requests>=2')"
            ) from None
        raise InvalidSpec(f"{spec!r} is not a valid package spec: {_spec_hint(spec)}") from None
    _check_arbitrary_equality(spec, req)
    if req.url:
        raise InvalidSpec(
            f"{spec!r} is a direct URL reference; only packages from the configured index "
            "can be installed"
        )
    return req


def _spec_hint(spec: str) -> str:
    """What a valid spec looks like, for one that is not (instead of the parser's words)."""
    import re

    if re.search(r"(?<![=<>!~])=(?![=])", spec):
        return "a single '=' is conda's; PyPI's exact version is '==' (numpy==1.26.4)"
    if re.match(r"\s*[A-Za-z0-9._-]+\s+[A-Za-z0-9]", spec):
        return "a package name has no blanks in it (several packages are several specs)"
    return "write a name, optionally with a version: scipy, scipy>=1.11 or scipy==1.11.4"


def _check_arbitrary_equality(spec: str, req: Requirement) -> None:
    """``===`` (PEP 440 arbitrary equality) with a PEP 440 version is the resolver's to
    match (``six===1.16.0``); with any other string no index version can equal it
    (the resolver reads only PEP 440 versions), so it is refused here, saying so."""
    from packaging.version import InvalidVersion, Version

    for item in req.specifier:
        if item.operator != "===":
            continue
        try:
            Version(item.version)
        except InvalidVersion:
            raise InvalidSpec(
                f"{spec!r} uses arbitrary equality (===) with {item.version!r}, which no "
                "version on a package index can equal (their versions follow PEP 440); "
                "use == with a version the index has"
            ) from None


def parse_pypi_specs(texts: list[str]) -> list[Requirement]:
    """Parse several specs; a package named twice is an error, not a silent merge."""
    from packaging.utils import canonicalize_name

    reqs: list[Requirement] = []
    seen: set[str] = set()
    for text in texts:
        req = parse_pypi_spec(text)
        key = canonicalize_name(req.name)
        if key in seen:
            raise InvalidSpec(f"package {req.name!r} is given more than once; combine the specs")
        seen.add(key)
        reqs.append(req)
    return reqs


def validate_package_name(text: str) -> str:
    """Names (for remove/update) are bare names: return the canonical form."""
    from packaging.utils import canonicalize_name

    req = parse_pypi_spec(text)
    if req.specifier or req.extras or req.marker:
        raise InvalidSpec(f"{text!r}: give a package name only, without version or extras")
    return canonicalize_name(req.name)


def canonical_name(name: str) -> str:
    """PEP 503's normalised name (``Foo_Bar`` -> ``foo-bar``).

    packaging is imported on first use: reading env metadata must not load it.
    """
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))
