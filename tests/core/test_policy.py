"""The policy's rules, one by one: reading, merging, judging names, versions, licences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jupyter_core.paths
import pytest

from jupyter_userpkg.core import policysource
from jupyter_userpkg.core.licences import allowed, of_metadata
from jupyter_userpkg.core.policy import Policy, PolicyError, from_data, normalize
from jupyter_userpkg.core.policyenforce import nearest_allowed
from jupyter_userpkg.core.policysource import merge


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


def test_admin_dirs_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy is read from the environment and system config dirs, never the user's."""
    user, env, system = tmp_path / "user", tmp_path / "env", tmp_path / "system"
    for d in (user, env, system):
        d.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(user))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(user))
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "0")
    monkeypatch.delenv(policysource.POLICY_URL_VAR, raising=False)
    monkeypatch.setattr(jupyter_core.paths, "ENV_CONFIG_PATH", [str(env)])
    monkeypatch.setattr(jupyter_core.paths, "SYSTEM_CONFIG_PATH", [str(system)])
    (user / "jupyter_userpkg_policy.json").write_text(json.dumps({"max_envs": 99}))
    (env / "jupyter_userpkg_policy.json").write_text(json.dumps({"max_envs": 4}))
    (system / "jupyter_userpkg_policy.json").write_text(
        json.dumps({"blocked_packages": [{"name": "evil", "reason": "malware"}]})
    )
    (system / "jupyter_userpkg_config.json").write_text(
        json.dumps({"UserPkg": {"default_index": "https://mirror.example.org/simple"}})
    )
    (user / "jupyter_userpkg_config.json").write_text(
        json.dumps({"UserPkg": {"default_index": "https://evil.example.org/simple"}})
    )
    loaded = policysource.load()
    assert loaded.policy.max_envs == 4
    assert loaded.policy.origins["max_envs"] == str(env / "jupyter_userpkg_policy.json")
    assert loaded.policy.package_verdict("EVIL", "pypi") is not None
    assert loaded.policy.indexes == ("https://mirror.example.org/simple",)
    assert str(user) not in json.dumps(loaded.policy.origins)


def test_policy_url_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A policy URL that cannot be fetched: the last good copy, with a note; none: an error."""
    import http.server
    import threading

    body = json.dumps({"max_envs": 2}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/policy.json"
    monkeypatch.setattr(policysource, "admin_dirs", lambda: [])
    monkeypatch.setenv(policysource.POLICY_URL_VAR, url)
    assert policysource.load(tmp_path).policy.max_envs == 2
    monkeypatch.setattr(policysource, "FRESH", 0.0)  # from now on, always fetched again
    server.shutdown()
    server.server_close()
    again = policysource.load(tmp_path)
    assert again.policy.max_envs == 2
    assert any("cannot be fetched" in n and "copy kept here" in n for n in again.notes)
    # Never fetched, and no copy: every package is refused until it can be (fail closed).
    closed = policysource.load(tmp_path / "elsewhere")
    assert "cannot be fetched" in closed.policy.error and closed.notes
    verdict = closed.policy.package_verdict("anything", "conda")
    assert verdict is not None and "nothing can be installed" in verdict.reason


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


def test_the_url_cannot_replace_the_administrators_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``JUPYTER_USERPKG_POLICY_URL`` (which a user can set in their own shell) only tightens
    what the administrator's files say; their source settings stay."""
    admin = tmp_path / "admin"
    admin.mkdir()
    monkeypatch.setattr(policysource, "admin_dirs", lambda: [admin])
    (admin / "jupyter_userpkg_policy.json").write_text(
        json.dumps({"indexes": ["https://mirror.example.org/simple"], "max_envs": 5})
    )
    url = tmp_path / "mine.json"
    mine = {"indexes": ["https://evil.example.org/simple"], "max_envs": 9}
    url.write_text(json.dumps({**mine, "snapshot": "2024-01-01"}))
    monkeypatch.setenv(policysource.POLICY_URL_VAR, str(url))
    policy = policysource.load(tmp_path / "cache").policy
    assert policy.indexes == ("https://mirror.example.org/simple",)
    assert policy.max_envs == 5
    assert policy.snapshot == "2024-01-01"  # tightening is taken from any source
    assert policysource.describe_sources()[-1].startswith(policysource.POLICY_URL_VAR)


def _serve(answers: list[tuple[int, bytes]]) -> tuple[str, Any]:
    """A loopback HTTP server answering GETs with ``answers[0]`` (a list the test edits)."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            status, body = answers[0]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/policy.json", server


def test_an_edited_cache_copy_is_not_taken_for_the_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy kept in the user's cache is read only when the URL cannot be fetched: an
    edited copy with a fresh time does not replace the administrator's policy."""
    answers = [(200, json.dumps({"blocked_packages": ["evil"]}).encode())]
    url, server = _serve(answers)
    monkeypatch.setattr(policysource, "admin_dirs", lambda: [])
    monkeypatch.setattr(policysource, "_FETCHED", {})
    monkeypatch.setenv(policysource.POLICY_URL_VAR, url)
    assert policysource.load(tmp_path).policy.package_verdict("evil", "pypi") is not None
    cache = policysource._cache_file(url, tmp_path)
    cache.write_text("{}")  # the user loosens the copy and keeps it fresh
    policysource._FETCHED.clear()  # a new process (the next CLI command)
    assert policysource.load(tmp_path).policy.package_verdict("evil", "pypi") is not None
    assert json.loads(cache.read_text()) == {"blocked_packages": ["evil"]}
    # An answer that is not a policy fails closed instead of falling back to the copy.
    monkeypatch.setattr(policysource, "FRESH", 0.0)
    answers[0] = (404, b"not found")
    gone = policysource.load(tmp_path)
    assert "HTTP 404" in gone.policy.error
    answers[0] = (200, b"<html>")
    assert "not valid JSON" in policysource.load(tmp_path).policy.error
    answers[0] = (503, b"")  # the server failing is as unreachable: the last good copy
    kept = policysource.load(tmp_path)
    assert not kept.policy.error and any("HTTP 503" in n for n in kept.notes)
    server.shutdown()
    server.server_close()


def test_a_layer_kernel_reads_the_servers_config_dir(tmp_path: Path) -> None:
    """In a kernel of a layer env, ``sys.prefix`` is the user's own env: the environment
    config dir the policy is read from is that of the env this package is installed in."""
    import site
    import subprocess
    import sys

    from jupyter_userpkg.core import uvbackend
    from jupyter_userpkg.core.kinds.layer import write_base_pth

    layer = tmp_path / "layer"
    uvbackend.create_venv(layer, sys.executable)
    write_base_pth(layer, tuple(site.getsitepackages()))
    (layer / "etc" / "jupyter").mkdir(parents=True)
    (layer / "etc" / "jupyter" / "jupyter_userpkg_policy.json").write_text("{}")
    code = (
        "import json, sys; from jupyter_userpkg.core import policysource as s;"
        "print(json.dumps([sys.prefix, [str(d) for d in s.admin_dirs()]]))"
    )
    out = subprocess.run(
        [str(uvbackend.env_python(layer)), "-c", code], capture_output=True, text=True, check=True
    )
    prefix, dirs = json.loads(out.stdout)
    assert Path(prefix) == layer
    assert str(layer / "etc" / "jupyter") not in dirs
    assert dirs[0] == str(Path(sys.prefix) / "etc" / "jupyter")


def test_an_unreadable_policy_keeps_the_administrators_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A policy file that cannot be read refuses every package; the administrator's
    index still holds (no user config takes its place) and the env's files stay."""
    from jupyter_userpkg.core import envconfig
    from jupyter_userpkg.core.kinds.base import Context
    from jupyter_userpkg.core.options import CondaOptions, UvOptions
    from jupyter_userpkg.core.store import EnvStore

    admin = tmp_path / "admin"
    admin.mkdir()
    monkeypatch.setattr(policysource, "admin_dirs", lambda: [admin])
    monkeypatch.delenv(policysource.POLICY_URL_VAR, raising=False)
    (admin / "jupyter_userpkg_policy.json").write_text("{broken")
    mirror = "https://mirror.example.org/simple"
    (admin / "jupyter_userpkg_config.json").write_text(
        json.dumps({"UserPkg": {"default_index": mirror}})
    )
    loaded = policysource.load(tmp_path / "cache")
    assert "not valid JSON" in loaded.policy.error
    assert loaded.settings["default_index"][0] == mirror
    assert loaded.policy.indexes == (mirror,)
    prefix = tmp_path / "env"
    prefix.mkdir()
    written = f"# {envconfig.HEADER}\nindex-url = {json.dumps(mirror)}\n"
    (prefix / "uv.toml").write_text(written)
    ctx = Context(EnvStore(tmp_path / "envs"), "", UvOptions(), CondaOptions(), loaded.policy)
    assert envconfig.write(ctx, prefix, conda=False) == {"UV_CONFIG_FILE": str(prefix / "uv.toml")}
    assert (prefix / "uv.toml").read_text() == written
    # A broken administrator's config file fails closed too, saying which file.
    (admin / "jupyter_userpkg_config.py").write_text("c.UserPkg.default_index = (")
    (admin / "jupyter_userpkg_config.json").unlink()
    (admin / "jupyter_userpkg_policy.json").write_text("{}")
    broken = policysource.load(tmp_path / "cache")
    assert "jupyter_userpkg_config.py" in broken.policy.error


def test_a_policy_file_that_says_nothing_of_managed_pythons_says_no(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = tmp_path / "admin"
    admin.mkdir()
    monkeypatch.setattr(policysource, "admin_dirs", lambda: [admin])
    (admin / "jupyter_userpkg_policy.json").write_text(json.dumps({"max_envs": 5}))
    url = tmp_path / "url.json"
    url.write_text(json.dumps({"python_downloads": True}))
    monkeypatch.setenv(policysource.POLICY_URL_VAR, str(url))
    loaded = policysource.load(tmp_path / "cache").policy
    assert loaded.python_downloads is False
    assert loaded.origins["python_downloads"] == str(admin / "jupyter_userpkg_policy.json")
    (admin / "jupyter_userpkg_policy.json").write_text(json.dumps({"python_downloads": True}))
    assert policysource.load(tmp_path / "cache").policy.python_downloads is True
    (admin / "jupyter_userpkg_policy.json").write_text("{}")  # says nothing: no policy shown
    monkeypatch.delenv(policysource.POLICY_URL_VAR)
    assert not policysource.load(tmp_path / "cache").policy.origins


def test_the_system_dirs_are_read_whatever_the_callers_environment_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "fake"))
    dirs = [str(d) for d in policysource.admin_dirs()]
    assert "/etc/jupyter" in dirs and "/usr/local/etc/jupyter" in dirs


def test_a_policy_url_that_is_no_url_or_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(policysource, "admin_dirs", lambda: [])
    monkeypatch.setattr(policysource, "_FETCHED", {})
    monkeypatch.setenv(policysource.POLICY_URL_VAR, "http://[::1")
    assert "not a URL" in policysource.load(tmp_path).policy.error
    answers = [(200, json.dumps({"max_envs": 2}).encode())]
    url, server = _serve(answers)
    monkeypatch.setenv(policysource.POLICY_URL_VAR, url)
    # A cache that cannot be written: the policy applies, with a note.
    blocked = tmp_path / "file"
    blocked.write_text("")
    unkept = policysource.load(blocked)
    assert unkept.policy.max_envs == 2 and any("cannot be kept" in n for n in unkept.notes)
    monkeypatch.setattr(policysource, "FRESH", 0.0)
    policysource.load(tmp_path)  # fetched again, and kept this time
    answers[0] = (429, b"slow down")
    busy = policysource.load(tmp_path)
    assert busy.policy.max_envs == 2 and any("HTTP 429" in n for n in busy.notes)
    server.shutdown()
    server.server_close()


def test_a_weaker_source_cannot_move_the_curated_channels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The administrator curates conda-forge by name, without an alias: a policy URL the
    user set cannot make that name another server."""
    from jupyter_userpkg.core.policyenforce import curated_urls

    admin = tmp_path / "admin"
    admin.mkdir()
    monkeypatch.setattr(policysource, "admin_dirs", lambda: [admin])
    (admin / "jupyter_userpkg_policy.json").write_text(json.dumps({"channels": ["conda-forge"]}))
    url = tmp_path / "mine.json"
    url.write_text(json.dumps({"channel_alias": "https://attacker.example.org/"}))
    monkeypatch.setenv(policysource.POLICY_URL_VAR, str(url))
    policy = policysource.load(tmp_path / "cache").policy
    assert curated_urls(policy) == ["https://conda.anaconda.org/conda-forge"]
    # The administrator's own alias (in any of their sources) does apply.
    (admin / "jupyter_userpkg_config.json").write_text(
        json.dumps({"UserPkg": {"channel_alias": "https://mirror.example.org/"}})
    )
    policy = policysource.load(tmp_path / "cache").policy
    assert curated_urls(policy) == ["https://mirror.example.org/conda-forge"]


@pytest.mark.parametrize("url", ["http://[::1", "https://a..b/p.json", "https://xn--/p"])
def test_a_policy_url_with_no_host_fails_closed(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(policysource, "admin_dirs", lambda: [])
    monkeypatch.setenv(policysource.POLICY_URL_VAR, url)
    loaded = policysource.load(tmp_path)
    assert "not a URL" in loaded.policy.error or "cannot be fetched" in loaded.policy.error
