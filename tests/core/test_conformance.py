"""conda's MatchSpec forms and PEP 508 edge cases: parsed as their own tools read them.

The reference for conda is its documented MatchSpec semantics; every accepted form is
also solved by rattler on the test channel, so that it means to the solver what it means
to conda.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest

from jupyter_userpkg.core.conda import specs as condaspecs
from jupyter_userpkg.core.errors import InvalidSpec, PackageNotFound, UserPkgError
from jupyter_userpkg.core.options import CondaOptions
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import TestChannel
from tests.conftest import CLI, env_state

MAIN = "https://repo.anaconda.com/pkgs/main"
R = "https://repo.anaconda.com/pkgs/r"
FORGE = "https://conda.anaconda.org/conda-forge"


def _pkgs(svc: UserPkgService, env: str) -> dict[str, tuple[str, str]]:
    return {p.name: (p.version, p.source) for p in svc.packages(env)}


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("text", "name", "version", "build", "channels", "subdir", "regex"),
    [
        # version lists mixing globs and operators: kept whole, "," before "|"
        ("numpy 1.2.*,<1.2.5", "numpy", "1.2.*,<1.2.5", None, (), None, None),
        ("numpy >=1.0,<2|3.*", "numpy", ">=1.0,<2|3.*", None, (), None, None),
        ("numpy >=1.0 , < 2.0 =py34_0", "numpy", ">=1.0,<2.0", "py34_0", (), None, None),
        # bracket keys separated by spaces, as conda writes them
        ("numpy[version='>=1.8' build=py36_0]", "numpy", ">=1.8", "py36_0", (), None, None),
        ("numpy[version='>=1.8', build=py36_0]", "numpy", ">=1.8", "py36_0", (), None, None),
        # name inside brackets
        ("numpy[name=numpy]", "numpy", None, None, (), None, None),
        ("*[name=numpy, version='1.*']", "numpy", "1.*", None, (), None, None),
        # subdirs
        ("numpy[subdir=linux-64]", "numpy", None, None, (), "linux-64", None),
        ("conda-forge/linux-64::numpy", "numpy", None, None, (FORGE,), "linux-64", None),
        ("numpy[channel=conda-forge/noarch]", "numpy", None, None, (FORGE,), "noarch", None),
        # '*' is any channel: the env's; with a subdir, that subdir of any of them
        ("*::numpy", "numpy", None, None, (), None, None),
        ("*/win-32::numpy", "numpy", None, None, (), "win-32", None),
        ("*/linux-32::foo>=1.0", "foo", ">=1.0", None, (), "linux-32", None),
        # a glob with an inner '*' is conda's regex, "and" the other versions of the list
        ("numpy *.7.*,>=1", "numpy", ">=1", None, (), None, r"^(?:.*\.7\..*)$"),
        ("numpy >=1,*.7.*", "numpy", ">=1", None, (), None, r"^(?:.*\.7\..*)$"),
        ("numpy >=1,*.7.* py_0", "numpy", ">=1", "py_0", (), None, r"^(?:.*\.7\..*)$"),
        ("numpy[version='*.7.*,>=1']", "numpy", ">=1", None, (), None, r"^(?:.*\.7\..*)$"),
        # conda's own channel names, not names under the channel alias
        ("defaults::numpy", "numpy", None, None, (MAIN, R), None, None),
        ("pkgs/main::numpy", "numpy", None, None, (MAIN,), None, None),
        ("pkgs/main/linux-64::numpy", "numpy", None, None, (MAIN,), "linux-64", None),
        # regex versions
        (r"numpy[version='^1\.2.*$']", "numpy", None, None, (), None, r"^1\.2.*$"),
        (r"numpy ^1\.2.*$", "numpy", None, None, (), None, r"^1\.2.*$"),
    ],
)
def test_conda_forms_are_read_as_conda_reads_them(
    text: str,
    name: str,
    version: str | None,
    build: str | None,
    channels: tuple[str, ...],
    subdir: str | None,
    regex: str | None,
) -> None:
    (spec,) = condaspecs.parse_specs([text])
    assert condaspecs.spec_name(spec) == name
    assert (str(spec.version) if spec.version else None) == version
    assert (str(spec.build) if spec.build else None) == build
    restriction = condaspecs.spec_restriction(spec)
    channel = condaspecs.spec_channel(spec)
    if restriction is None:
        assert (channel,) == (channels or (None,))
        assert subdir is None and regex is None
    else:
        assert channel is None  # the restriction holds it
        assert (restriction.channels, restriction.subdir) == (channels, subdir)
        assert restriction.version_regex == regex
    # What the manifest keeps reads back as the same spec.
    (again,) = condaspecs.parse_specs([condaspecs.spec_text(spec)])
    assert condaspecs.spec_text(again) == condaspecs.spec_text(spec)
    assert condaspecs.spec_restriction(again) == restriction
    assert str(again) == str(spec)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("nump--y", "bad name 'nump--y'"),
        ("a..b", "bad name 'a..b'"),
        ("a.-b", "bad name 'a.-b'"),
        ("numpy[version=1.0,version=2.0]", "the key 'version' is given twice"),
        ("numpy[build=a build=b]", "the key 'build' is given twice"),
        ("numpy[name=scipy]", "it names 'numpy' and, in brackets, 'scipy'"),
        ("numpy (target=blarg,optional)", "a request installs what it names"),
        ("numpy (optional)", "a request installs what it names"),
        ("numpy[version='^1.2']", "must start with '^' and end with '$'"),
        ("numpy[version='^(1$']", "bad regex"),
        ("numpy[subdir=nowhere]", "'nowhere' is not a subdir"),
        ("conda-forge/linux-64::numpy[subdir=noarch]", "it names two subdirs"),
        ("*::*", "it names no package"),
    ],
)
def test_conda_forms_refused_say_why(text: str, words: str) -> None:
    with pytest.raises(InvalidSpec) as err:
        condaspecs.parse_specs([text])
    assert words in err.value.message
    assert "\n" not in err.value.message


def test_a_subdir_of_any_channel_names_no_channel() -> None:
    """``*/win-32::numpy`` is conda's ``numpy[subdir=win-32]``: no channel named ``*``
    under the alias, for the solve or for the policy's channel check."""
    assert condaspecs.named_channels(["*/win-32::numpy", "*/linux-32::foo>=1.0"]) == []
    (spec,) = condaspecs.parse_specs(["*/win-32::numpy"])
    assert condaspecs.spec_text(spec) == 'numpy[subdir="win-32"]'


def test_both_orders_of_a_glob_and_an_operator_mean_the_same() -> None:
    """conda's ``*.7.*`` is a regex over the whole version: 1.7.0 and 2.7.1, not 1.17.0."""
    first, second = condaspecs.parse_specs(["numpy *.7.*,>=1", "numpy >=1,*.7.*"])
    assert condaspecs.spec_text(first) == condaspecs.spec_text(second)
    restriction = condaspecs.spec_restriction(first)
    assert restriction is not None
    versions = ["1.7.0", "2.7.1", "1.17.0", "0.7", "1.8.0"]
    held = [v for v in versions if restriction.admits(_Record(v))]
    assert held == ["1.7.0", "2.7.1"]


class _Record:
    def __init__(self, version: str) -> None:
        self.version = version
        self.channel = ""
        self.subdir = "noarch"


def test_conda_names_for_channels() -> None:
    assert condaspecs.channel_url("pkgs/main") == MAIN
    assert condaspecs.channel_urls("defaults") == [MAIN, R]
    assert condaspecs.channel_urls("conda-forge") == [FORGE]
    for bad in ("nump--y", "a..b"):
        with pytest.raises(InvalidSpec):
            condaspecs.validate_name(bad)


# ------------------------------------------------------------------ solving


@pytest.fixture
def env(svc: UserPkgService, conda_channel: TestChannel) -> str:
    svc.create("f", kind="conda", channels=[conda_channel.url], specs=["pinme"], kernel=False)
    return "f"


@pytest.mark.parametrize(
    ("spec", "name", "version"),
    [
        ("pinme 1.*,<1.1", "pinme", "1.0"),  # a glob and an operator: both hold
        ("bar >=1.0,<2|3.*", "bar", "1.0"),  # "," binds before "|"
        ("pinme[version='<1.1' build=0]", "pinme", "1.0"),  # space-separated keys
        ("*[name=pinme, version='<1.1']", "pinme", "1.0"),
        (r"pinme ^1\.0$", "pinme", "1.0"),  # a regex version
        (r"bar[version='^1\..*$']", "bar", "1.0"),
        ("libfoo[subdir=linux-64]", "libfoo", "2.0"),
        ("*::pinme=1.0", "pinme", "1.0"),  # any channel: the env's
        ("*/noarch::pinme", "pinme", "1.1"),  # any channel, that subdir
        ("pinme *.0,>=1", "pinme", "1.0"),  # a glob with an inner '*': a regex, and >=1
        ("pinme >=1,*.0", "pinme", "1.0"),
    ],
)
def test_accepted_forms_hold_the_solve(
    svc: UserPkgService, env: str, spec: str, name: str, version: str
) -> None:
    svc.change(env, install=[spec])
    assert _pkgs(svc, env)[name] == (version, "conda")
    # The manifest's text means the same on the next solve.
    svc.change(env, update_all=True)
    assert _pkgs(svc, env)[name] == (version, "conda")


def test_a_subdir_restricts_the_solve(
    svc: UserPkgService, env: str, conda_channel: TestChannel
) -> None:
    before = env_state(svc.store.envs_dir, env)
    # bar is noarch only, libfoo linux-64 only: each form restricts channel and subdir.
    for spec in (
        "bar[subdir=linux-64]",
        "libfoo[subdir=noarch]",
        f"{conda_channel.url}/linux-64::bar",
        f"{conda_channel.url}/noarch::libfoo",
    ):
        with pytest.raises(
            PackageNotFound, match=r"no package (bar|libfoo) \(subdir [a-z0-9-]+\) in the channels"
        ):
            svc.change(env, install=[spec])
        assert env_state(svc.store.envs_dir, env) == before
    svc.change(env, install=[f"{conda_channel.url}/noarch::bar 1.*"])
    pkgs = _pkgs(svc, env)
    assert pkgs["bar"] == ("1.0", "conda") and pkgs["libfoo"] == ("1.0", "conda")
    # The lock names the package's own channel.
    (channel,) = {p.index for p in svc.packages(env) if p.name == "bar"}
    assert channel is not None and channel.rstrip("/") == conda_channel.url.rstrip("/")
    manifest = svc.store.read_manifest(env)
    assert manifest.conda["bar"] == f'{conda_channel.url}::bar 1.*[subdir="noarch"]'
    assert svc.doctor(env)[0]["ok"]


def test_a_regex_version_restricts_the_solve(svc: UserPkgService, env: str) -> None:
    with pytest.raises(PackageNotFound, match=r"a version matching \^3\\\..*\$"):
        svc.change(env, install=[r"bar ^3\..*$"])


def test_defaults_and_pkgs_main_name_anacondas_channels(
    tmp_path: Path, conda_channel: TestChannel, conda_options: CondaOptions
) -> None:
    """Offline with nothing cached: the error names the channels the solve would read."""
    options = CondaOptions(
        repodata_cache_dir=str(tmp_path / "fresh"),
        pkgs_dir=conda_options.pkgs_dir,
        offline=True,
        default_channels=(),
    )
    svc = UserPkgService(tmp_path / "envs", kernels_dir=tmp_path / "k", conda_options=options)
    for spec, urls in (("defaults::numpy", (MAIN, R)), ("pkgs/main::numpy", (MAIN,))):
        with pytest.raises(UserPkgError) as err:
            svc.create("d", kind="conda", channels=[conda_channel.url], specs=[spec])
        assert err.value.code == "backend_unavailable", err.value.message
        for url in urls:
            assert url in err.value.message
        assert "conda.anaconda.org" not in err.value.message
    with pytest.raises(UserPkgError) as err:
        svc.create("d", kind="conda", channels=["defaults"], specs=["numpy"])
    assert MAIN in err.value.message and R in err.value.message


# ------------------------------------------------------------------ several missing


def test_every_missing_conda_name_is_named_at_once(
    svc: UserPkgService, env: str, tmp_path: Path, conda_channel: TestChannel
) -> None:
    before = env_state(svc.store.envs_dir, env)
    with pytest.raises(PackageNotFound) as err:
        svc.change(env, install=["nothere1", "bar", "nothere2"])
    assert err.value.message.startswith("no package named 'nothere1', 'nothere2' in the channels")
    with pytest.raises(PackageNotFound) as err:
        svc.change(env, install=["bar >=9", "nothere"])
    assert "no package named 'nothere'" in err.value.message
    assert "no version of bar matches '>=9'" in err.value.message
    assert env_state(svc.store.envs_dir, env) == before
    yml = tmp_path / "environment.yml"
    yml.write_text(
        f"channels: [{conda_channel.url}]\ndependencies: [bar, missing-a, pinme, missing-b]\n"
    )
    with pytest.raises(PackageNotFound, match="'missing-a', 'missing-b'"):
        svc.create("y", from_file=str(yml), kernel=False)
    assert not svc.store.exists("y")


@pytest.mark.slow
def test_every_missing_pypi_name_is_named_at_once(svc: UserPkgService, tmp_path: Path) -> None:
    tag = secrets.token_hex(4)
    a, b = f"no-such-package-xyz-{tag}-a", f"no-such-package-xyz-{tag}-b"
    path = tmp_path / "requirements.txt"
    path.write_text(f"{a}\nsix\n{b}>=1\n")
    with pytest.raises(PackageNotFound) as err:
        svc.create("r", kind="venv", from_file=str(path), kernel=False)
    assert err.value.message == f"package not found on the index: {a}, {b}"
    assert not svc.store.exists("r")


# ------------------------------------------------------------------ PEP 508


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("six===not-a-version", "arbitrary equality (===)"),
        ("pkg @ git+https://github.com/x/y@v1", "only packages from the configured index"),
        ("git+https://github.com/x/y@v1#egg=y", "only packages from the configured index"),
    ],
)
def test_pep508_forms_refused_in_files_say_why(tmp_path: Path, line: str, words: str) -> None:
    from jupyter_userpkg.core.exports import read_import

    for name, text in (
        ("requirements.txt", f"{line}\n"),
        ("environment.yml", f"dependencies:\n  - pip:\n    - '{line}'\n"),
    ):
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(InvalidSpec) as err:
            read_import(path)
        assert words in err.value.message and str(tmp_path) not in err.value.message


@pytest.mark.slow
def test_arbitrary_equality_with_a_version_is_resolved(pinned_svc: UserPkgService) -> None:
    """``===`` with a PEP 440 version is uv's to match (PEP 440 arbitrary equality)."""
    svc = pinned_svc
    svc.create("eq", kind="venv", specs=["pindep===1.0"], kernel=False)
    assert _pkgs(svc, "eq")["pindep"] == ("1.0", "pypi")
    svc.change("eq", install=["six===1.16.0"])
    assert _pkgs(svc, "eq")["six"] == ("1.16.0", "pypi")
    svc.change("eq", update_all=True)  # the manifest's text solves the same again
    assert _pkgs(svc, "eq")["pindep"] == ("1.0", "pypi")


@pytest.mark.slow
def test_a_false_marker_is_said_by_the_cli(cli: CLI) -> None:
    cli("create", "m", "--kind", "venv", "--no-kernel")
    out = cli("install", "-n", "m", "tabulate; python_version < '3'", "--dry-run")
    assert "nothing to change" in out.stdout
    assert (
        'note: tabulate is not installed: its marker `python_version < "3"` is false for '
        f"Python {sys.version_info.major}.{sys.version_info.minor}"
    ) in out.stdout
