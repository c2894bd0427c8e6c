"""Conda environments: every verb against real packages in a channel the tests build."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import tomlkit

from jupyter_userpkg.core.errors import UserPkgError
from jupyter_userpkg.core.events import ProgressEvent
from jupyter_userpkg.core.options import CondaOptions
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import TestChannel, build_package, index_channel, python_shim
from tests.conftest import env_state, run_python


def _pkgs(svc: UserPkgService, env: str) -> dict[str, tuple[str, str]]:
    return {p.name: (p.version, p.source) for p in svc.packages(env)}


def _files(state: dict[str, str]) -> dict[str, str]:
    """The installed files; not the history, nor uv's lock file made at its first use."""
    return {k: v for k, v in state.items() if not k.startswith(".userpkg") and k != ".lock"}


@pytest.mark.slow  # reaches PyPI
def test_every_verb(svc: UserPkgService, conda_channel: TestChannel, tmp_path: Path) -> None:
    result = svc.create(
        "c",
        kind="conda",
        channels=[conda_channel.url],
        specs=["python", "bar 1.*", "pyfoo", "needs-glibc"],
        kernel=False,
    )
    assert result.revision == 0
    prefix = svc.store.prefix("c")
    assert _pkgs(svc, "c") == {
        "bar": ("1.0", "conda"),
        "libfoo": ("1.0", "conda"),
        "needs-glibc": ("1.0", "conda"),
        "pyfoo": ("0.2", "conda"),
        "python": ("{}.{}.{}".format(*sys.version_info[:3]), "conda"),
    }
    requested = {p.name for p in svc.packages("c") if p.requested}
    assert requested == {"python", "bar", "pyfoo", "needs-glibc"}
    # The prefix placeholder was rewritten, noarch python went to site-packages.
    assert (prefix / "etc" / "libfoo.conf").read_text() == f"prefix={prefix}\n"
    out = run_python(svc.store.envs_dir, "c", "import pyfoo, sys; print(pyfoo.__version__)")
    assert out.stdout.strip() == "0.2", out.stderr
    script = subprocess.run([str(prefix / "bin" / "foo-config")], capture_output=True, text=True)
    assert script.stdout.strip() == "libfoo 1.0"
    rev0 = env_state(svc.store.envs_dir, "c")

    # A dry run plans (the constrains of baz hold libfoo below 2) and changes nothing.
    plan = svc.change("c", install=["baz"], dry_run=True).plan
    assert [(c.name, c.action, c.new, c.source) for c in plan.changes] == [
        ("baz", "add", "1.0", "conda")
    ]
    assert env_state(svc.store.envs_dir, "c") == rev0

    # PyPI on top: the plan shows both layers; conda's six is held, not reinstalled.
    svc.change("c", install=["six"])
    result = svc.change("c", install=["python-dateutil"], pypi=True)
    layers = {(c.name, c.source) for c in result.plan.changes}
    assert ("python-dateutil", "pypi") in layers
    assert ("six", "pypi") not in layers
    assert _pkgs(svc, "c")["six"] == ("1.16.0", "conda")
    out = run_python(
        svc.store.envs_dir, "c", "import dateutil, six; print(six.__version__, six.__file__)"
    )
    assert out.stdout.split()[0] == "1.16.0", out.stderr

    # remove: the package and what only it needed.
    result = svc.change("c", remove=["bar"])
    assert {(c.name, c.action) for c in result.plan.changes} == {
        ("bar", "remove"),
        ("libfoo", "remove"),
    }
    assert not (prefix / "etc" / "libfoo.conf").exists()
    history = svc.history("c")
    assert [r.command for r in history] == [
        f"create c --kind conda -c {conda_channel.url} python bar 1.* pyfoo needs-glibc",
        "install six",
        "install python-dateutil --pypi",
        "remove bar",
    ]
    # rollback to 0 restores every file of revision 0 exactly (both layers).
    svc.rollback(0, "c")
    assert _files(env_state(svc.store.envs_dir, "c")) == _files(rev0)
    assert svc.doctor("c")[0]["ok"]

    # export -> create --from, in both formats, gives the same packages.
    for fmt, suffix in (("environment", "yml"), ("lock", "toml")):
        svc.rollback(2, "c")
        exported = tmp_path / f"c.{suffix}"
        exported.write_text(svc.export("c", fmt))
        twin = f"c-{fmt}"
        svc.create(twin, from_file=str(exported), kernel=False)
        assert svc.env_info(twin).kind == "conda"
        assert _pkgs(svc, twin) == _pkgs(svc, "c")
        if fmt == "lock":
            assert svc.store.read_conda_lock(twin) == svc.store.read_conda_lock("c")
            assert svc.store.read_manifest(twin).conda == svc.store.read_manifest("c").conda
        svc.delete(twin)
    with pytest.raises(UserPkgError, match="export it as 'environment' or 'lock'"):
        svc.export("c", "requirements")
    svc.delete("c")
    assert not prefix.exists()


def test_matchspec_forms(svc: UserPkgService, conda_channel: TestChannel) -> None:
    svc.create("m", kind="conda", channels=[conda_channel.url], specs=["pinme=1.0"], kernel=False)
    assert _pkgs(svc, "m")["pinme"] == ("1.0", "conda")
    svc.change("m", install=["libfoo>=2"])
    assert _pkgs(svc, "m")["libfoo"] == ("2.0", "conda")
    svc.change("m", install=["libfoo[version='<2']"])
    assert _pkgs(svc, "m")["libfoo"] == ("1.0", "conda")
    svc.change("m", install=["bar=1.0=0"])  # a build string
    assert _pkgs(svc, "m")["bar"] == ("1.0", "conda")
    manifest = svc.store.read_manifest("m")
    assert manifest.conda["pinme"] == "pinme 1.0.*"
    assert manifest.conda["bar"] == "bar ==1.0 0"


def test_update_moves_only_what_must(
    svc: UserPkgService, conda_channel: TestChannel, tmp_path: Path
) -> None:
    channel_dir = tmp_path / "channel"
    shutil.copytree(conda_channel.path, channel_dir)
    url = channel_dir.as_uri()
    svc.create("u", kind="conda", channels=[url], specs=["pinme", "bar 1.*"], kernel=False)
    before = _pkgs(svc, "u")
    assert before["pinme"] == ("1.1", "conda")
    build_package(channel_dir, "pinme", "1.2", files={"share/pinme/VERSION": "1.2"})
    build_package(
        channel_dir,
        "libfoo",
        "1.5",
        subdir="linux-64",
        files={"lib/libfoo.so.1": b"1.5"},
    )
    index_channel(channel_dir)
    # update NAME: that package moves; libfoo, which could, does not.
    svc.change("u", update=["pinme"])
    after = _pkgs(svc, "u")
    assert after["pinme"] == ("1.2", "conda")
    assert after["libfoo"] == before["libfoo"] == ("1.0", "conda")
    # update --all moves what can move, within the specs (bar stays 1.x).
    result = svc.change("u", update_all=True)
    assert {(c.name, c.old, c.new) for c in result.plan.changes} == {("libfoo", "1.0", "1.5")}
    # A pinned spec stays pinned.
    svc.change("u", install=["pinme=1.1"])
    svc.change("u", update_all=True)
    assert _pkgs(svc, "u")["pinme"] == ("1.1", "conda")
    with pytest.raises(UserPkgError, match="'nothere' is not installed"):
        svc.change("u", update=["nothere"])


@pytest.mark.parametrize(
    ("request_", "code", "words"),
    [
        ({"install": ["left", "right"]}, "unsatisfiable", "cannot be installed together"),
        ({"install": ["libfoo 2.*"]}, "unsatisfiable", "bar 1.0 would require"),
        ({"install": ["nothere"]}, "package_not_found", "no package named 'nothere'"),
        ({"install": ["bar >=9"]}, "package_not_found", "available: 1.0, 2.0"),
        ({"install": ["needs-cuda"]}, "unsatisfiable", "set CONDA_OVERRIDE_CUDA"),
        ({"install": ["bar >=1,<"]}, "invalid_spec", "not a valid conda package spec"),
        ({"install": ["https://x.org/bar-1.0-0.tar.bz2"]}, "invalid_spec", "come from the"),
        ({"remove": ["libfoo"]}, "invalid_request", "installed as a dependency"),
        ({"remove": ["pinme"]}, "package_not_found", "not installed"),
        pytest.param(
            {"install": ["six>=1.17"], "pypi": True},
            "unsatisfiable",
            "six",
            marks=pytest.mark.slow,  # resolved on PyPI
        ),
    ],
)
def test_refused_changes_leave_everything_as_it_was(
    svc: UserPkgService,
    conda_channel: TestChannel,
    request_: dict[str, object],
    code: str,
    words: str,
) -> None:
    svc.create(
        "r",
        kind="conda",
        channels=[conda_channel.url],
        specs=["python", "bar 1.*", "six"],
        kernel=False,
    )
    before = env_state(svc.store.envs_dir, "r")
    with pytest.raises(UserPkgError) as err:
        svc.change("r", **request_)  # type: ignore[arg-type]
    assert err.value.code == code, err.value.message
    assert words in f"{err.value.message}\n{err.value.details}"
    assert env_state(svc.store.envs_dir, "r") == before


def test_pypi_needs_python(svc: UserPkgService, conda_channel: TestChannel) -> None:
    svc.create("np", kind="conda", channels=[conda_channel.url], specs=["bar"], kernel=False)
    before = env_state(svc.store.envs_dir, "np")
    with pytest.raises(UserPkgError, match="PyPI packages need Python"):
        svc.change("np", install=["tabulate"], pypi=True)
    assert env_state(svc.store.envs_dir, "np") == before


def test_virtual_package_override(
    svc: UserPkgService, conda_channel: TestChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    svc.create("v", kind="conda", channels=[conda_channel.url], specs=["needs-cuda"], kernel=False)
    assert _pkgs(svc, "v") == {"needs-cuda": ("1.0", "conda")}


def test_channel_names_resolve_through_the_alias(
    tmp_path: Path, conda_channel: TestChannel, conda_options: CondaOptions
) -> None:
    # A channel alias pointing at a local mirror: `-c testing` is <alias>/testing.
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "testing").symlink_to(conda_channel.path, target_is_directory=True)
    options = CondaOptions(
        channel_alias=mirror.as_uri() + "/",
        default_channels=("testing",),
        pkgs_dir=conda_options.pkgs_dir,
        repodata_cache_dir=conda_options.repodata_cache_dir,
    )
    svc = UserPkgService(tmp_path / "envs", kernels_dir=tmp_path / "k", conda_options=options)
    svc.create("a", kind="conda", specs=["pinme"], kernel=False)  # the default channel, by name
    assert svc.store.read_manifest("a").channels == ((mirror / "testing").as_uri(),)
    assert "pinme" in _pkgs(svc, "a")
    svc.change("a", install=["testing::bar 1.*"])  # a channel named in the spec, same alias
    assert _pkgs(svc, "a")["bar"] == ("1.0", "conda")


def test_unreachable_channel_and_offline(tmp_path: Path, conda_options: CondaOptions) -> None:
    # A channel named by name, under an alias nothing listens on: unreachable on any network.
    alias = "http://127.0.0.1:9"
    for offline, words in ((False, "cannot read the package index"), (True, "is not cached")):
        options = CondaOptions(
            repodata_cache_dir=str(tmp_path / "fresh-cache"),
            pkgs_dir=conda_options.pkgs_dir,
            channel_alias=alias,
            default_channels=(),
            offline=offline,
        )
        svc = UserPkgService(tmp_path / "envs", kernels_dir=tmp_path / "k", conda_options=options)
        with pytest.raises(UserPkgError) as err:
            svc.create("o", kind="conda", channels=["conda-forge"], specs=["numpy"])
        assert err.value.code == "backend_unavailable"
        assert words in err.value.message
        assert "127.0.0.1:9/conda-forge" in err.value.message
        assert svc.list_envs() == []


def test_package_cache_is_shared_by_hard_links(tmp_path: Path, conda_channel: TestChannel) -> None:
    shared = tmp_path / "shared-pkgs"
    admin = UserPkgService(
        tmp_path / "admin-envs",
        kernels_dir=tmp_path / "k",
        conda_options=CondaOptions(pkgs_dir=str(shared), repodata_cache_dir=str(tmp_path / "r")),
    )
    admin.create(
        "seed", kind="conda", channels=[conda_channel.url], specs=["bar 1.*"], kernel=False
    )
    os.chmod(shared, 0o555)  # the shared layer is read-only for users
    try:
        user_pkgs = tmp_path / "user-pkgs"
        user = UserPkgService(
            tmp_path / "envs",
            kernels_dir=tmp_path / "k",
            conda_options=CondaOptions(
                pkgs_dir=str(user_pkgs),
                shared_pkgs_dirs=(str(shared),),
                repodata_cache_dir=str(tmp_path / "r"),
            ),
        )
        for env in ("one", "two"):
            user.create(
                env, kind="conda", channels=[conda_channel.url], specs=["bar 1.*"], kernel=False
            )
    finally:
        os.chmod(shared, 0o755)
    lib = Path("lib") / "libfoo.so.1"
    inodes = {os.stat(tmp_path / "envs" / env / lib).st_ino for env in ("one", "two")}
    assert inodes == {os.stat(tmp_path / "admin-envs" / "seed" / lib).st_ino}
    # Nothing had to be extracted into the user's own cache.
    assert not list(user_pkgs.glob("libfoo-*"))


@pytest.mark.slow  # reaches PyPI
def test_exports_keep_pypi_requests_conda_satisfies(
    svc: UserPkgService, conda_channel: TestChannel, tmp_path: Path
) -> None:
    svc.create(
        "s", kind="conda", channels=[conda_channel.url], specs=["python", "six"], kernel=False
    )
    svc.change("s", install=["six"], pypi=True)  # conda's six satisfies it: nothing from PyPI
    assert _pkgs(svc, "s")["six"] == ("1.16.0", "conda")
    exported = tmp_path / "s.toml"
    exported.write_text(svc.export("s", "lock"))
    svc.create("s2", from_file=str(exported), kernel=False)
    assert _pkgs(svc, "s2") == _pkgs(svc, "s")
    assert svc.store.read_manifest("s2").pypi == svc.store.read_manifest("s").pypi
    # A conda file cannot make another kind of env (its conda packages would be lost).
    with pytest.raises(UserPkgError, match="create it with --kind conda"):
        svc.create("v", kind="venv", from_file=str(exported))
    assert not svc.store.exists("v")
    before = env_state(svc.store.envs_dir, "s")
    with pytest.raises(UserPkgError, match="is a conda package in 's': remove it without --pypi"):
        svc.change("s", remove=["python"], pypi=True)
    assert env_state(svc.store.envs_dir, "s") == before


def test_repodata_is_reread_after_its_ttl(
    tmp_path: Path, conda_channel: TestChannel, conda_options: CondaOptions
) -> None:
    channel_dir = tmp_path / "channel"
    shutil.copytree(conda_channel.path, channel_dir)
    url = channel_dir.as_uri()
    for ttl, seen in ((3600.0, "1.1"), (0.0, "1.2")):
        options = CondaOptions(
            pkgs_dir=conda_options.pkgs_dir,
            repodata_cache_dir=str(tmp_path / f"repodata-{ttl}"),
            repodata_ttl=ttl,
        )
        svc = UserPkgService(
            tmp_path / f"envs-{ttl}", kernels_dir=tmp_path / "k", conda_options=options
        )
        svc.create("t", kind="conda", channels=[url], specs=["bar"], kernel=False)
        build_package(channel_dir, "pinme", "1.2", files={"share/pinme/VERSION": "1.2"})
        index_channel(channel_dir)
        # Within the TTL a long-lived process plans from what it read; after it, it re-reads.
        svc.change("t", install=["pinme"])
        assert _pkgs(svc, "t")["pinme"] == (seen, "conda")
        (channel_dir / "noarch" / "pinme-1.2-0.tar.bz2").unlink()
        index_channel(channel_dir)


def test_interrupt_while_linking_leaves_the_old_revision(
    svc: UserPkgService, conda_channel: TestChannel, tmp_path: Path
) -> None:
    """Ctrl-C lands while rattler links: it finishes, then the change is undone."""
    channel_dir = tmp_path / "channel"
    shutil.copytree(conda_channel.path, channel_dir)
    files: dict[str, bytes | str] = {f"share/big/{i:04d}.txt": f"{i}\n" for i in range(3000)}
    build_package(channel_dir, "big", "1.0", files=files)
    index_channel(channel_dir)
    svc.create("i", kind="conda", channels=[channel_dir.as_uri()], specs=["bar 1.*"], kernel=False)
    before = env_state(svc.store.envs_dir, "i")
    journal = svc.store.prefix("i") / ".userpkg" / "txn" / "journal.json"
    fired: list[bool] = []

    def on_progress(event: ProgressEvent) -> None:
        # rattler has started linking big: Ctrl-C now, as a user would (SIGINT).
        if event.phase == "install" and event.package == "big" and not fired:
            fired.append(journal.is_file())  # the change is under way: the journal is armed
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        svc.change("i", install=["big", "bar 2.*"], progress=on_progress)
    assert fired == [True]  # the interrupt landed mid-change, while linking
    assert env_state(svc.store.envs_dir, "i") == before
    assert [r.revision for r in svc.history("i")] == [0]
    assert svc.doctor("i")[0]["ok"]


@pytest.mark.slow  # reaches PyPI
def test_conda_package_replaces_a_pypi_one(svc: UserPkgService, conda_channel: TestChannel) -> None:
    svc.create("p", kind="conda", channels=[conda_channel.url], specs=["python"], kernel=False)
    svc.change("p", install=["six"], pypi=True)
    assert _pkgs(svc, "p")["six"][1] == "pypi"
    result = svc.change("p", install=["six"])  # conda's six now satisfies the PyPI request
    assert {(c.name, c.action, c.source) for c in result.plan.changes} == {
        ("six", "add", "conda"),
        ("six", "remove", "pypi"),
    }
    out = run_python(svc.store.envs_dir, "p", "import six; print(six.__version__)")
    assert out.stdout.strip() == "1.16.0", out.stderr
    assert svc.doctor("p")[0]["ok"]


def test_failed_python_upgrade_restores_every_relinked_file(
    svc: UserPkgService, conda_channel: TestChannel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new Python X.Y relinks noarch Python packages whose version does not change."""
    channel_dir = tmp_path / "channel"
    shutil.copytree(conda_channel.path, channel_dir)
    python_shim(channel_dir, version="3.99.0")
    index_channel(channel_dir)
    svc.create(
        "up",
        kind="conda",
        channels=[channel_dir.as_uri()],
        specs=["python 3.11.*", "pyfoo"],
        kernel=False,
    )
    before = env_state(svc.store.envs_dir, "up")
    plan = svc.change("up", install=["python 3.99.*"], dry_run=True).plan
    assert {c.name for c in plan.changes} == {"python"}  # pyfoo keeps its version...

    def broken_commit(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(svc.store, "commit", broken_commit)
    with pytest.raises(UserPkgError, match="undone"):
        svc.change("up", install=["python 3.99.*"])
    monkeypatch.undo()
    assert env_state(svc.store.envs_dir, "up") == before  # ...but was relinked, then restored
    assert svc.doctor("up")[0]["ok"]


@pytest.mark.slow  # reaches PyPI
def test_imported_files_of_either_kind(
    svc: UserPkgService, conda_channel: TestChannel, tmp_path: Path
) -> None:
    # channels + python + a pip: list suits every kind; it is a layer unless asked otherwise.
    yml = tmp_path / "environment.yml"
    yml.write_text(
        f"name: x\nchannels: [{conda_channel.url}]\n"
        "dependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - tabulate\n"
    )
    plan = svc.create("y", from_file=str(yml), kernel=False, dry_run=True).plan
    assert {(c.name, c.source) for c in plan.changes} == {("tabulate", "pypi")}
    svc.create("c", kind="conda", from_file=str(yml), kernel=False)
    assert {p.name: p.source for p in svc.packages("c")} == {"python": "conda", "tabulate": "pypi"}
    # A lock from another platform, or one rattler cannot read, is refused up front.
    exported = tmp_path / "c.toml"
    exported.write_text(svc.export("c", "lock"))
    for old, new in (("linux-64", "osx-arm64"), ("version: 7", "version: 99")):
        bad = tmp_path / f"bad-{new.replace(' ', '')}.toml"
        bad.write_text(exported.read_text().replace(old, new))
        with pytest.raises(UserPkgError) as err:
            svc.create("bad", from_file=str(bad), kernel=False)
        assert err.value.code == "invalid_spec", err.value.message
        assert err.value.message.startswith(bad.name)
        assert not svc.store.exists("bad")
    # A conda lock that is no lock at all (it lists no package to take a shortcut on).
    for garbage in ("packages: 3", "version: [unclosed", "just text"):
        doc = tomlkit.parse(exported.read_text())
        doc["tool"]["jupyter-userpkg"]["conda-lock"] = garbage
        bad = tmp_path / "garbage.toml"
        bad.write_text(tomlkit.dumps(doc))
        with pytest.raises(UserPkgError, match=r"garbage\.toml: its conda lock is not valid"):
            svc.create("bad", from_file=str(bad), kernel=False)
        assert not svc.store.exists("bad")


@pytest.mark.slow  # reaches PyPI
def test_conda_names_and_a_kernel_for_python_as_a_dependency(
    svc: UserPkgService, conda_channel: TestChannel, tmp_path: Path
) -> None:
    channel_dir = tmp_path / "channel"
    shutil.copytree(conda_channel.path, channel_dir)
    build_package(channel_dir, "_private_mutex", "1.0", files={"share/_private/ok": "1"})
    index_channel(channel_dir)
    # pyfoo brings python: the env gets ipykernel (from PyPI: the channel has none) and a kernel.
    svc.create(
        "k", kind="conda", channels=[channel_dir.as_uri()], specs=["pyfoo", "_private_mutex"]
    )
    assert {p.name: p.source for p in svc.packages("k")}["ipykernel"] == "pypi"
    spec = json.loads((svc.kernels_dir / "userpkg-k" / "kernel.json").read_text())
    assert spec["env"]["CONDA_PREFIX"] == str(svc.store.prefix("k"))
    assert spec["argv"][0] == str(svc.store.prefix("k") / "bin" / "python")
    # conda names that PEP 508 would refuse are fine here.
    svc.change("k", update=["_private_mutex"])
    svc.change("k", remove=["_private_mutex"])
    assert "_private_mutex" not in _pkgs(svc, "k")


@pytest.mark.slow  # reaches PyPI
def test_pypi_layer_holds_conda_packages_by_their_distribution_names(
    svc: UserPkgService, conda_channel: TestChannel, tmp_path: Path
) -> None:
    """A conda package named unlike its distribution (py-tab installs tabulate) is held too."""
    channel_dir = tmp_path / "channel"
    shutil.copytree(conda_channel.path, channel_dir)
    info = "site-packages/tabulate-0.9.0.dist-info"
    build_package(
        channel_dir,
        "py-tab",
        "0.9.0",
        build="py_0",
        noarch="python",
        depends=["python >=3.8"],
        files={
            "site-packages/tabulate.py": '__version__ = "0.9.0"\n',
            f"{info}/METADATA": "Metadata-Version: 2.1\nName: tabulate\nVersion: 0.9.0\n",
            f"{info}/INSTALLER": "conda\n",
            f"{info}/RECORD": "",
        },
    )
    index_channel(channel_dir)
    url = channel_dir.as_uri()
    svc.create("h", kind="conda", channels=[url], specs=["python", "py-tab"], kernel=False)
    result = svc.change("h", install=["tabulate"], pypi=True)
    assert result.plan.changes == ()  # conda's tabulate 0.9.0 serves the request
    before = env_state(svc.store.envs_dir, "h")
    with pytest.raises(UserPkgError) as err:
        svc.change("h", install=["tabulate>=0.10"], pypi=True)
    assert err.value.code == "unsatisfiable"
    assert env_state(svc.store.envs_dir, "h") == before
