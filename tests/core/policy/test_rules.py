"""The policy's rules, one by one: reading, merging, judging names, versions, licences."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_userpkg.core.policy import sources as policysource
from jupyter_userpkg.core.policy.enforce import nearest_allowed
from jupyter_userpkg.core.policy.licences import allowed, of_metadata
from jupyter_userpkg.core.policy.rules import Policy, PolicyError, from_data, normalize
from jupyter_userpkg.core.policy.sources import merge


def policy(**data: Any) -> Policy:
    return from_data(data, "test")


@pytest.mark.parametrize(
    ("written", "asked"),
    [
        ("Foo_Bar", "foo-bar"),
        ("foo.bar", "FOO_BAR"),
        ("foo--bar", "Foo.Bar"),
        ("ruamel.yaml", "ruamel-yaml"),
        ("tensorflow*", "TensorFlow_GPU"),
        ("*-gpl", "readline.GPL"),
    ],
)
def test_names_match_however_they_are_spelled(written: str, asked: str) -> None:
    p = policy(blocked_packages=[{"name": written, "reason": "no"}])
    for source in ("pypi", "conda"):
        verdict = p.package_verdict(asked, source)
        assert verdict is not None and verdict.reason == "no"
    assert p.package_verdict("unrelated", "pypi") is None


def test_normalize_is_pep_503() -> None:
    assert normalize("Foo.__-Bar") == "foo-bar"


@pytest.mark.parametrize(
    ("rule", "version", "blocked"),
    [
        ("<2.31", "2.30.0", True),
        ("<2.31", "2.31.0", False),
        ("==1.0.2", "1.0.2", True),
        ("==1.0.2", "1.0.20", False),
        (">=1,<1.3", "1.2.9", True),
        (">=1,<1.3", "1.3", False),
        ("==2.0.0rc1", "2.0.0rc1", True),
        ("==1.0.1a", "1.0.1a", True),  # a conda version PEP 440 would spell 1.0.1a0
        ("===9.5.1_2", "9.5.1_2", True),  # not PEP 440 at all: only === names it
        ("<10", "9.5.1_2", True),  # unreadable: in every range (never dodged by a spelling)
        ("==9.5.1", "9.5.1_2", False),
    ],
)
def test_blocked_versions(rule: str, version: str, blocked: bool) -> None:
    p = policy(
        blocked_versions=[
            {"name": "requests", "versions": rule, "reason": "CVE-1", "advisory": "GHSA-1"}
        ]
    )
    verdict = p.version_verdict("Requests", version, "pypi")
    assert (verdict is not None) is blocked
    if verdict is not None:
        assert verdict.reason == "CVE-1" and verdict.advisory == "GHSA-1"
        assert "requests" in verdict.rule and rule in verdict.rule
        assert "CVE-1" in verdict.because() and "GHSA-1" in verdict.because()


@pytest.mark.parametrize(
    ("rule", "version", "blocked"),
    [
        ("<2.0", "1.9.1_a", True),  # conda's own version rules, not PEP 440's
        (">=1.1,<1.2", "1.1.1_2", True),
        ("<1.1", "1.1.1_2", False),
        ("==1.0.1a", "1.0.1a", True),
        ("!=1.0", "1.0", False),
        ("<2021.1", "2020.12.1", True),
        ("==2.*", "2.5", True),  # PEP 440's prefix match, which conda spells 2.*
        ("==1.2.*", "1.2.3", True),
        ("==1.2.*", "1.3", False),
        ("!=2.*", "2.0", False),
    ],
)
def test_blocked_conda_versions(rule: str, version: str, blocked: bool) -> None:
    p = policy(blocked_versions=[{"name": "openssl", "versions": rule, "source": "conda"}])
    assert (p.version_verdict("openssl", version, "conda") is not None) is blocked


def test_a_rule_for_one_source_leaves_the_other() -> None:
    p = policy(blocked_packages=[{"name": "six", "source": "conda"}])
    assert p.package_verdict("six", "conda") is not None
    assert p.package_verdict("six", "pypi") is None


def test_allowed_packages_and_pypi_switch() -> None:
    p = policy(allowed_packages=["numpy", "scipy*"])
    assert p.package_verdict("numpy", "pypi") is None
    assert p.package_verdict("SciPy-Stubs", "conda") is None
    verdict = p.package_verdict("pandas", "pypi")
    assert verdict is not None and verdict.rule == "allowed_packages"
    no_pypi = policy(pypi=False)
    assert no_pypi.package_verdict("numpy", "pypi") is not None
    assert no_pypi.package_verdict("numpy", "conda") is None


@pytest.mark.parametrize(
    ("declared", "ok"),
    [
        ("MIT", True),
        ("mit", True),
        ("BSD-3-Clause", True),
        ("BSD 3-Clause", True),
        ("License :: OSI Approved :: BSD License", True),
        ("MIT OR GPL-3.0-only", True),
        ("MIT AND GPL-3.0-only", False),
        ("(Apache-2.0 OR MIT) AND BSD-3-Clause", True),
        ("GPL-3.0-only", False),
        ("GPL-2.0-or-later WITH Classpath-exception-2.0", False),
        ("Apache 2.0", True),
        ("LGPL-2.1", False),
        ("", False),
        ("GPL-3.0-only AND (Apache-2.0 OR MIT)", False),  # the GPL part is always there
        ("MIT AND (GPL-3.0-only OR BSD-3-Clause)", True),
        ("((MIT))", True),
        ("(MIT OR", False),
        ("MIT AND", False),
    ],
)
def test_licences(declared: str, ok: bool) -> None:
    allowed_ids = ["MIT", "BSD-3-Clause", "Apache-2.0"]
    assert allowed(declared, allowed_ids) is ok
    p = policy(allowed_licenses=allowed_ids)
    verdict = p.license_verdict("pkg", declared or None)
    assert (verdict is None) is ok
    if verdict is not None:
        assert verdict.rule == "allowed_licenses" and "MIT" in verdict.reason


@pytest.mark.parametrize(
    ("metadata", "licence"),
    [
        ("Name: a\nLicense-Expression: MIT\nLicense: GPL\n", "MIT"),
        ("Name: a\nClassifier: License :: OSI Approved :: MIT License\n", "MIT License"),
        ("Name: a\nLicense: BSD\n", "BSD"),
        ("Name: a\nClassifier: Programming Language :: Python\n", None),
    ],
)
def test_licence_from_core_metadata(metadata: str, licence: str | None) -> None:
    assert of_metadata(metadata) == licence


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"blocked_versions": [{"name": "x", "versions": "not a spec"}]}, "blocked_versions"),
        ({"blocked_versions": [{"name": "x"}]}, "blocked_versions"),
        ({"blocked_packages": [{"name": "x; rm -rf /"}]}, "blocked_packages"),
        ({"blocked_packages": [{"name": "x", "why": "?"}]}, "blocked_packages"),
        ({"indexes": ["ftp://example.org/simple"]}, "indexes"),
        ({"indexes": "https://example.org/simple"}, "indexes"),
        ({"snapshot": "last tuesday"}, "snapshot"),
        ({"max_envs": 0}, "max_envs"),
        ({"max_envs": True}, "max_envs"),
        ({"pypi": "no"}, "pypi"),
        ({"blocked": ["x"]}, "blocked"),
        ({"default_packages": ["numpy --index-url http://x"]}, "default_packages"),
    ],
)
def test_a_bad_policy_names_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(PolicyError) as info:
        from_data(data, "/etc/jupyter/jupyter_userpkg_policy.json")
    assert field in info.value.message
    assert "/etc/jupyter/jupyter_userpkg_policy.json" in info.value.message


def test_sources_only_tighten_one_another() -> None:
    hub = from_data(
        {
            "indexes": ["https://mirror.example.org/simple"],
            "blocked_packages": ["a"],
            "allowed_licenses": ["MIT", "BSD-3-Clause"],
            "max_envs": 5,
            "snapshot": "2024-06-01",
            "pypi": True,
        },
        "hub",
    )
    system = from_data(
        {
            "indexes": ["https://other.example.org/simple"],
            "blocked_packages": ["b"],
            "allowed_licenses": ["MIT", "GPL-3.0-only"],
            "max_envs": 3,
            "snapshot": "2025-01-01",
            "pypi": False,
        },
        "system",
    )
    merged = merge([hub, system])
    assert merged.indexes == ("https://mirror.example.org/simple",)  # the first source's
    assert {r.name for r in merged.blocked_packages} == {"a", "b"}
    assert merged.allowed_licenses == ("MIT",)
    assert merged.max_envs == 3
    assert merged.snapshot == "2024-06-01"
    assert merged.pypi is False
    assert merged.origins["max_envs"] == "hub; system"
    assert merged.origins["indexes"] == "hub"


def test_nearest_allowed_version() -> None:
    versions = ["2.29.0", "2.30.0", "2.31.0", "2.32.3"]
    ok = {"2.29.0", "2.31.0", "2.32.3"}
    assert nearest_allowed(ok, lambda v: True, ["2.30.0"]) == "2.31.0"
    assert nearest_allowed(versions, lambda v: v in {"2.29.0"}, ["2.30.0"]) == "2.29.0"
    assert nearest_allowed([], lambda v: True, ["1"]) is None


def _doc(data: dict[str, Any], origin: str) -> Policy:
    return from_data(data, origin)


@pytest.mark.parametrize(
    ("first", "second", "allowed", "refused"),
    [
        (["numpy*"], ["numpy", "pandas"], ["numpy"], ["numpy-extra", "pandas"]),
        (["numpy"], ["num*"], ["numpy"], ["numba"]),
        (["sci*"], ["*py"], ["scipy"], ["scikit-learn", "numpy"]),
        (["numpy"], ["scipy"], [], ["numpy", "scipy", "anything"]),  # nothing in common
        (["numpy*"], [], ["numpy"], ["pandas"]),  # an empty list does not cancel the other
    ],
)
def test_allow_lists_meet(
    first: list[str], second: list[str], allowed: list[str], refused: list[str]
) -> None:
    """A name is allowed only if every source that lists names allows it, globs or not."""
    merged = merge(
        [_doc({"allowed_packages": first}, "a"), _doc({"allowed_packages": second}, "b")]
    )
    for name in allowed:
        assert merged.package_verdict(name, "pypi") is None, name
    for name in refused:
        assert merged.package_verdict(name, "pypi") is not None, name


def test_implied_defaults_count_in_a_merge() -> None:
    """A source that curates channels and says nothing else refuses the user's channels,
    whatever a later source says; one that says nothing of managed Pythons refuses them."""
    curated = _doc({"channels": ["https://conda.example.org/main"]}, "admin")
    loose = _doc({"allow_user_channels": True, "python_downloads": True}, "url")
    merged = merge([curated, loose])
    assert merged.user_channels is False
    assert merge([loose]).python_downloads is True
    # An administrator's default_channels setting is a default, not a restriction.
    settings = policysource._from_settings({"default_channels": (["main"], "/etc/jupyter/x")})
    assert merge([_doc({"max_envs": 3}, "admin"), settings]).user_channels is True
    assert merge([curated, settings]).user_channels is False


def test_licence_exceptions_of_a_weaker_source_do_not_apply() -> None:
    strict = _doc({"allowed_licenses": ["MIT"]}, "admin")
    weak = _doc({"allowed_licenses": ["MIT"], "license_exceptions": ["libgcc*"]}, "url")
    merged = merge([strict, weak])
    assert merged.license_verdict("libgcc-ng", "GPL-3.0-only") is not None
    both = merge([_doc({"allowed_licenses": ["MIT"], "license_exceptions": ["lib*"]}, "a"), weak])
    assert both.license_verdict("libgcc-ng", "GPL-3.0-only") is None
    assert both.license_verdict("libfoo", "GPL-3.0-only") is not None
    nothing = merge([strict, _doc({"allowed_licenses": ["BSD-3-Clause"]}, "url")])
    assert nothing.license_verdict("six", "MIT") is not None  # no licence in common
