"""What a hostile co-user or a damaged file must not achieve (no network needed)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from jupyter_userpkg.commands.dispatch import as_user_error
from jupyter_userpkg.core.errors import AccessDenied, BackendUnavailable, EnvDamaged, InvalidSpec
from jupyter_userpkg.core.files import atomic_write
from jupyter_userpkg.core.options import CondaOptions, UvOptions
from jupyter_userpkg.core.pypi.uv import install_pinned, lock_entries
from jupyter_userpkg.core.service import UserPkgService
from jupyter_userpkg.core.transaction import Transaction
from tests.conda_channel import TestChannel
from tests.conftest import run_python


def test_atomic_write_follows_no_planted_symlink(tmp_path: Path) -> None:
    """A symlink at a predictable temporary name must not redirect the write."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    target = tmp_path / "kernel.json"
    for name in (f".{target.name}.{os.getpid()}.tmp", f".{target.name}.tmp"):
        (tmp_path / name).symlink_to(victim)
    atomic_write(target, "new\n")
    assert target.read_text() == "new\n" and not target.is_symlink()
    assert victim.read_text() == "keep me\n"
    leftovers = {p.name for p in tmp_path.iterdir()} - {"victim.txt", "kernel.json"}
    assert all((tmp_path / n).is_symlink() for n in leftovers)  # only the planted ones


LOCK = """lock-version = "1.0"
created-by = "elsewhere"

[[packages]]
name = {name}
version = {version}
index = "https://pypi.org/simple"
wheels = [{{ name = "six-1.17.0-py2.py3-none-any.whl", hashes = {{ {hashes} }} }}]

[tool.jupyter-userpkg]
kind = "venv"
python = "3.11"

[tool.jupyter-userpkg.pypi-dependencies]
six = "*"
"""
GOOD_HASH = "sha256 = " + '"' + "a" * 64 + '"'


@pytest.mark.parametrize(
    ("name", "version", "hashes", "message"),
    [
        (
            '"six"',
            '"1.17.0\\n--extra-index-url http://evil.invalid/simple"',
            GOOD_HASH,
            "is not a valid version",
        ),
        ('"six"', '"1.17.0 --find-links /tmp"', GOOD_HASH, "is not a valid version"),
        ('"six --index-url x"', '"1.17.0"', GOOD_HASH, "is not a valid package name"),
        ('"six"', '"1.17.0"', 'md5 = "0123"', "is not a valid hash"),
        ('"six"', '"1.17.0"', 'sha256 = "abc --hash=sha256:00"', "is not a valid hash"),
        ('"six"', "1", GOOD_HASH, "is not a valid version"),
    ],
)
def test_an_imported_lock_is_checked_field_by_field(
    svc: UserPkgService,
    envs_dir: Path,
    tmp_path: Path,
    name: str,
    version: str,
    hashes: str,
    message: str,
) -> None:
    """Nothing of another party's lock reaches uv's command line unchecked."""
    path = tmp_path / "pylock.toml"
    path.write_text(LOCK.format(name=name, version=version, hashes=hashes))
    with pytest.raises(InvalidSpec, match=message) as err:
        svc.create("copy", kernel=False, from_file=str(path))
    assert err.value.message.startswith("pylock.toml: ")
    assert not envs_dir.exists() or svc.list_envs() == []
    assert not (envs_dir / "copy").exists()


def test_the_checked_lock_is_what_uv_gets() -> None:
    text = LOCK.format(name='"Six"', version='"1.17.0"', hashes=GOOD_HASH)
    assert lock_entries(text) == [("Six", "1.17.0", ["sha256:" + "a" * 64])]


def test_uninstall_names_are_checked() -> None:
    """Names to remove become arguments after ``--``, and only valid names do."""
    with pytest.raises(InvalidSpec, match="is not a valid package name"):
        install_pinned(
            sys.executable, "", remove=["--python=/usr/bin/python3"], options=UvOptions()
        )


def _damage(envs_dir: Path) -> dict[str, str]:
    """Five kinds of damage, one env each; what doctor must say of each."""
    revs = {n: envs_dir / n / ".userpkg" / "revisions" for n in "abcde"}
    (revs["a"] / "0" / "revision.json").write_text("{bad")
    (revs["b"] / "junk").mkdir()  # not a revision: ignored
    (revs["c"] / "0" / "pylock.toml").write_text(
        'lock-version = "1.0"\n[[packages]]\nversion = "1.0"\n'
    )
    (revs["d"] / "0" / "manifest.toml").write_text("")
    manifest = revs["e"] / "0" / "manifest.toml"
    manifest.write_text(manifest.read_text().replace('kind = "venv"', 'kind = "docker"'))
    return {
        "a": "revision.json of revision 0: cannot be read",
        "c": "pylock.toml of revision 0: the lock lists a package without a name",
        "d": "manifest.toml of revision 0: has no [env] table naming a kind",
        "e": "environment 'e' names an unknown kind 'docker' in its manifest",
    }


def test_one_damaged_env_breaks_no_listing(svc: UserPkgService, envs_dir: Path) -> None:
    for name in "abcdef":
        svc.create(name, kind="venv", kernel=False)
    said = _damage(envs_dir)
    listed = {e.name: e.kind for e in svc.list_envs()}
    assert listed == {
        "a": "venv",  # its history is damaged, not what envs shows
        "b": "venv",
        "c": "broken",
        "d": "broken",
        "e": "broken",
        "f": "venv",
    }
    reports = {r["env"]: r for r in svc.doctor()}
    assert {n: r["problems"] for n, r in reports.items() if not r["ok"]} == {
        n: [m] for n, m in said.items()
    }
    assert reports["b"]["ok"] and reports["f"]["ok"]
    # Each verb on a damaged env says so in one line, as a UserPkgError (never a traceback).
    with pytest.raises(EnvDamaged, match=r"revision\.json of revision 0 cannot be read"):
        svc.history("a")
    with pytest.raises(EnvDamaged, match="a package without a name"):
        svc.packages("c")
    with pytest.raises(EnvDamaged, match="unknown kind 'docker'"):
        svc.packages("e")
    with pytest.raises(EnvDamaged, match=r"has no \[env\] table"):
        svc.change("d", install=["six"])


def test_a_permission_error_is_one_line_naming_the_path() -> None:
    """Root passes every permission check, so the mapping itself is what is tested here."""
    error = as_user_error(PermissionError(13, "Permission denied", "/srv/envs/x/.userpkg"))
    assert isinstance(error, AccessDenied) and error.code == "permission_denied"
    assert error.message.startswith("permission denied: /srv/envs/x/.userpkg; ")
    assert "\n" not in error.message and "PermissionError" not in error.message


def test_envs_dir_and_journal_are_private(svc: UserPkgService, envs_dir: Path) -> None:
    """Other users can neither read a user's envs nor hold their locks."""
    svc.create("p", kind="venv", kernel=False)
    assert envs_dir.stat().st_mode & 0o777 == 0o700
    assert svc.doctor("p")[0]["ok"]
    envs_dir.chmod(0o755)  # e.g. made by hand, or by an earlier version
    problems = svc.doctor("p")[0]["problems"]
    assert problems == [
        f"{envs_dir} can be reached by other users (mode 0755): run `chmod 700 {envs_dir}`"
    ]
    envs_dir.chmod(0o700)
    txn = Transaction(svc.store.prefix("p"))
    txn.begin(1, [], {"command": "test"})
    assert txn.dir.stat().st_mode & 0o777 == 0o700
    txn.finish()


def test_every_request_a_lock_lacks_is_named_at_once(
    svc: UserPkgService, envs_dir: Path, tmp_path: Path
) -> None:
    text = LOCK.format(name='"six"', version='"1.17.0"', hashes=GOOD_HASH)
    text += 'tabulate = "*"\nrich = ">=13"\n'
    path = tmp_path / "pylock.toml"
    path.write_text(text)
    with pytest.raises(
        InvalidSpec,
        match=r"^pylock\.toml: tabulate, rich are asked for but not among the lock's packages$",
    ):
        svc.create("copy", kind="venv", kernel=False, from_file=str(path))
    assert not (envs_dir / "copy").exists()


@pytest.mark.slow
def test_the_default_envs_lock_makes_a_copy(svc: UserPkgService, tmp_path: Path) -> None:
    """The README's round trip on the env most users have: its requests the base holds."""
    svc.change(install=["six"])  # makes 'default', which asks for ipykernel (the base's)
    assert "ipykernel" in svc.store.read_manifest("default").pypi
    path = tmp_path / "pylock.toml"
    path.write_text(svc.export("default", "lock"))
    svc.create("copy", from_file=str(path))
    ours = {(p.name, p.version, p.source) for p in svc.packages("copy")}
    assert ours == {(p.name, p.version, p.source) for p in svc.packages("default")}
    # As a venv, nothing holds ipykernel: refused, and said why.
    with pytest.raises(InvalidSpec, match=r"ipykernel(, six)? (is|are) asked for but not among"):
        svc.create("isolated", kind="venv", from_file=str(path))


@pytest.mark.slow
def test_a_request_its_marker_excludes_is_said_in_the_plan(svc: UserPkgService) -> None:
    svc.create("m", kind="venv", kernel=False)
    result = svc.change("m", install=["six; python_version < '3'"], dry_run=True)
    assert result.plan.changes == ()
    assert result.plan.messages == (
        'six is not installed: its marker `python_version < "3"` is false for '
        f"Python {sys.version_info.major}.{sys.version_info.minor} on this machine",
    )


def test_a_python_not_found_says_how_to_point_at_one(svc: UserPkgService, envs_dir: Path) -> None:
    with pytest.raises(BackendUnavailable, match=r"give the interpreter's path instead"):
        svc.create("old", kind="venv", python="3.99", kernel=False)
    assert not (envs_dir / "old").exists()
    # ... and a path works.
    svc.create("bypath", kind="venv", python=sys.executable, kernel=False)
    assert svc.env_info("bypath").python == f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.slow
def test_the_callers_uv_and_pip_variables_do_not_reach_uv(
    svc: UserPkgService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uv's settings come from the configuration only, never from the caller's environment."""
    nowhere = "http://127.0.0.1:9/simple"
    for name in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_INDEX", "PIP_INDEX_URL"):
        monkeypatch.setenv(name, nowhere)
    monkeypatch.setenv("UV_EXTRA_INDEX_URL", nowhere)
    result = svc.create("e", kind="venv", kernel=False, specs=["six"])
    assert [c.name for c in result.plan.changes] == ["six"]
    assert "index" in svc.packages("e")[0].to_dict()


def _wheel(directory: Path, name: str, version: str) -> Path:
    """A real, minimal wheel of a pure-Python module (not on any index)."""
    import base64
    import hashlib
    import zipfile

    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}.py": f'VERSION = "{version}"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


@pytest.mark.slow
def test_a_shared_read_only_wheel_directory(svc: UserPkgService, tmp_path: Path) -> None:
    """What users may share for PyPI: a directory of wheels an administrator fills."""
    shared = tmp_path / "shared-wheels"
    shared.mkdir()
    _wheel(shared, "userpkg-shared-demo", "1.0")
    shared.chmod(0o555)
    configured = UserPkgService(
        svc.store.envs_dir,
        kernels_dir=svc.kernels_dir,
        uv_options=UvOptions(find_links=(str(shared),), cache_dir=str(tmp_path / "own-cache")),
    )
    configured.create("w", kind="venv", kernel=False, specs=["userpkg-shared-demo"])
    out = run_python(svc.store.envs_dir, "w", "import userpkg_shared_demo as m; print(m.VERSION)")
    assert out.stdout.strip() == "1.0"
    assert configured.doctor("w")[0]["problems"] == []


def _replace(path: Path, text: str) -> None:
    """Change an env's file without writing through its hard link (the cache stays intact)."""
    path.unlink()
    path.write_text(text)


@pytest.mark.slow
def test_doctor_deep_finds_files_changed_after_install(svc: UserPkgService) -> None:
    svc.create("d", kind="venv", kernel=False, specs=["six"])
    assert svc.doctor("d", deep=True)[0]["ok"]
    six = next(svc.store.prefix("d").glob("lib/python*/site-packages/six.py"))
    _replace(six, six.read_text() + "\nimport os  # planted\n")
    assert svc.doctor("d")[0]["ok"]  # versions still match the lock
    (problem,) = svc.doctor("d", deep=True)[0]["problems"]
    assert problem.startswith("six ") and problem.endswith("six.py differs from what was installed")


def test_doctor_deep_checks_conda_packages(svc: UserPkgService, conda_channel: TestChannel) -> None:
    svc.create("c", kind="conda", kernel=False, channels=[conda_channel.url], specs=["bar 1.*"])
    assert svc.doctor("c", deep=True)[0]["ok"]
    meta = json.loads(next((svc.store.prefix("c") / "conda-meta").glob("bar-*.json")).read_text())
    rel = next(p["_path"] for p in meta["paths_data"]["paths"] if p.get("sha256"))
    _replace(svc.store.prefix("c") / rel, "changed\n")
    assert svc.doctor("c")[0]["ok"]
    assert svc.doctor("c", deep=True)[0]["problems"] == [
        f"bar 1.0: {rel} differs from what was linked"
    ]


def test_a_conda_plan_says_what_comes_from_the_package_cache(
    svc: UserPkgService, conda_channel: TestChannel, tmp_path: Path
) -> None:
    """What is extracted in the package cache already is not counted as a download."""
    fresh = UserPkgService(
        svc.store.envs_dir,
        kernels_dir=svc.kernels_dir,
        conda_options=CondaOptions(
            pkgs_dir=str(tmp_path / "pkgs"),
            repodata_cache_dir=str(tmp_path / "repodata"),
            default_channels=(),
        ),
    )
    first = fresh.create(
        "one", kind="conda", kernel=False, channels=[conda_channel.url], specs=["bar 1.*"]
    )
    assert first.plan.download_bytes > 0
    assert not any("package cache" in m for m in first.plan.messages)
    again = fresh.create(
        "two",
        kind="conda",
        kernel=False,
        channels=[conda_channel.url],
        specs=["bar 1.*"],
        dry_run=True,
    )
    assert again.plan.download_bytes == 0
    assert (
        "2 conda packages come from the package cache: nothing to download" in again.plan.messages
    )


def test_a_plan_says_what_comes_from_uvs_cache(
    envs_dir: Path, conda_options: CondaOptions, tmp_path: Path
) -> None:
    """A rollback to packages uv has cached downloads nothing, and its plan says so."""
    from tests.localindex import LocalIndex, build_wheel

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for version in ("1.0", "2.0"):
        build_wheel(wheels, "cachedpkg", version, padding=200_000)
    # The index serves core metadata (PEP 658), as PyPI does: the solve downloads no wheel.
    with LocalIndex(wheels, json=True) as index:
        svc = UserPkgService(
            envs_dir,
            kernels_dir=tmp_path / "kernels",
            conda_options=conda_options,
            uv_options=UvOptions(default_index=index.url, cache_dir=str(tmp_path / "uv-cache")),
        )
        svc.create("c", kind="venv", kernel=False)
        first = svc.change("c", install=["cachedpkg==1.0"]).plan
        assert first.download_bytes > 200_000 and not any("cache" in m for m in first.messages)
        svc.change("c", install=["cachedpkg==2.0"])
        back = svc.rollback(1, "c", dry_run=True).plan
        assert [(c.name, c.new) for c in back.changes] == [("cachedpkg", "1.0")]
        assert back.download_bytes == 0
        assert "1 PyPI package from uv's cache: nothing to download" in back.messages
