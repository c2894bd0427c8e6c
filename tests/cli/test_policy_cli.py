"""The policy in a terminal: where it is read from, what a user's config or environment
cannot loosen, ``policy`` and ``policy --check``, and errors in one line."""

from __future__ import annotations

import json
import site
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.core.policy.rules import POLICY_FILE as POLICY
from tests.conftest import CLI
from tests.localindex import LocalIndex, build_wheel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalIndex, LocalIndex]]:
    """The curated index (clipol 1.0 and 2.0) and a rogue one (clipol 9.0)."""
    good, rogue = tmp_path_factory.mktemp("good"), tmp_path_factory.mktemp("rogue")
    for version in ("1.0", "2.0"):
        build_wheel(good, "clipol", version)
    build_wheel(rogue, "clipol", "9.0")
    with LocalIndex(good) as g, LocalIndex(rogue) as r:
        yield g, r


def write_policy(path: Path, **data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_a_users_config_and_environment_cannot_loosen_the_policy(
    cli: CLI,
    indexes: tuple[LocalIndex, LocalIndex],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    admin_policy: Callable[..., Path],
) -> None:
    good, rogue = indexes
    policy = write_policy(
        admin_policy() / POLICY,
        indexes=[good.url],
        blocked_versions=[{"name": "clipol", "versions": "==2.0", "reason": "broken build"}],
    )
    # The user points their config, and the engines' own variables, at another index.
    cli.configure(default_index=rogue.url, extra_index_urls=[rogue.url], find_links=[str(tmp_path)])
    for var in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "PIP_INDEX_URL"):
        monkeypatch.setenv(var, rogue.url)
    # A user's own "policy" in their config dir is no policy.
    write_policy(
        Path(cli.env()["JUPYTER_CONFIG_DIR"]) / "jupyter_userpkg_policy.json", indexes=[rogue.url]
    )
    cli("create", "p", "--kind", "venv", "--no-kernel", "-y")
    cli("install", "-n", "p", "clipol", "-y")
    (pkg,) = [p for p in cli.json("list", "-n", "p") if p["name"] == "clipol"]  # type: ignore[union-attr]
    assert pkg["version"] == "1.0"  # from the curated index, the blocked 2.0 passed over
    refused = cli("install", "-n", "p", "clipol==2.0", "-y", check=False)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert refused.stderr.count("\n") == 1
    assert "broken build" in refused.stderr and "nearest allowed version is 1.0" in refused.stderr
    as_json = json.loads(
        cli("install", "-n", "p", "clipol==2.0", "-y", "--json", check=False).stdout
    )
    assert as_json["code"] == "policy_denied"
    shown = cli.json("policy")
    assert shown["policy"]["indexes"] == [good.url]  # type: ignore[index]
    assert shown["origins"]["indexes"] == str(policy)  # type: ignore[index]
    text = cli("policy").stdout
    assert "blocked_versions: clipol ==2.0 broken build" in text and f"from {policy}" in text


def test_policy_check_tries_a_new_policy_first(
    cli: CLI, indexes: tuple[LocalIndex, LocalIndex], tmp_path: Path
) -> None:
    good, _ = indexes
    cli.configure(default_index=good.url)
    cli("create", "old", "--kind", "venv", "--no-kernel", "-y", "clipol==2.0")
    assert cli("policy", "--check").stdout == "every environment complies with the policy\n"
    new = write_policy(
        tmp_path / "new.json",
        blocked_versions=[
            {"name": "clipol", "versions": ">=2", "reason": "CVE-9", "advisory": "A-9"}
        ],
    )
    found = cli("policy", "--check", "--policy", str(new), check=False)
    assert found.returncode == 1
    assert "environment 'old': clipol 2.0: blocked" in found.stdout and "CVE-9" in found.stdout
    assert "fix: jupyter userpkg update clipol -n old" in found.stdout
    # The envs list says nothing yet: the new policy is not in force.
    assert "warning" not in cli("envs").stdout
    bad = write_policy(
        tmp_path / "bad.json", blocked_versions=[{"name": "clipol", "versions": "two"}]
    )
    refused = cli("policy", "--check", "--policy", str(bad), check=False)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "'two' (clipol) is not a version specifier" in refused.stderr


def test_envs_warns_with_the_fix(
    cli: CLI,
    indexes: tuple[LocalIndex, LocalIndex],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    admin_policy: Callable[..., Path],
) -> None:
    good, _ = indexes
    cli.configure(default_index=good.url)
    cli("create", "old", "--kind", "venv", "--no-kernel", "-y", "clipol")
    write_policy(
        admin_policy() / POLICY,
        blocked_versions=[
            {"name": "clipol", "versions": ">=2", "reason": "CVE-9", "advisory": "A-9"}
        ],
    )
    out = cli("envs").stdout
    assert "warning: environment 'old' holds clipol 2.0" in out and "A-9" in out
    assert "fix: jupyter userpkg update clipol -n old" in out
    cli("update", "clipol", "-n", "old", "-y")
    assert "warning" not in cli("envs").stdout


def test_a_broken_policy_fails_closed(
    cli: CLI,
    indexes: tuple[LocalIndex, LocalIndex],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    admin_policy: Callable[..., Path],
) -> None:
    """A policy that cannot be read refuses every package (one line naming the file and
    why); reading envs goes on, and `policy` says what is wrong."""
    good, _ = indexes
    cli.configure(default_index=good.url)
    cli("create", "e", "--kind", "venv", "--no-kernel", "-y")
    policy = admin_policy() / POLICY
    policy.write_text('{"blocked_versions": [{"name": "clipol", "versions": "two"}]}')
    assert [e["name"] for e in cli.json("envs")] == ["e"]  # type: ignore[index]
    out = cli("install", "-n", "e", "clipol", "-y", check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1
    assert str(policy) in out.stderr and "'two' (clipol) is not a version specifier" in out.stderr
    assert "nothing can be installed until it is fixed" in out.stderr
    assert "not a version specifier" in cli("policy").stdout
    doctor = cli("doctor", check=False)
    assert doctor.returncode != 0 and "the administrator's policy: " in doctor.stdout
    policy.write_text("{not json")
    out = cli("install", "-n", "e", "clipol", "-y", check=False)
    assert out.returncode == 1 and "is not valid JSON" in out.stderr


def test_an_envs_own_config_dir_is_not_the_administrators(
    cli: CLI, tmp_path: Path, admin_policy: Callable[..., Path]
) -> None:
    """A Python environment of the user's that reaches this package (as a layer env's
    kernel does): its ``sys.prefix/etc/jupyter`` is the user's, not an administrator's
    dir; the administrator's dir is that of the env this package is installed in."""
    prefix = tmp_path / "user-env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True)
    (purelib,) = [Path(p) for p in site.getsitepackages() if p.endswith("site-packages")][:1]
    target = next(prefix.glob("lib/python*/site-packages"))
    (target / "dev.pth").write_text(f"{purelib}\n{Path(__file__).parents[2]}\n")
    mine = prefix / "etc" / "jupyter"
    mine.mkdir(parents=True)
    write_policy(mine / POLICY, max_envs=50)
    admin = write_policy(admin_policy() / POLICY, max_envs=1, blocked_packages=["evilpkg"])
    env = {**cli.env(), "JUPYTER_PREFER_ENV_PATH": "1", "JUPYTER_CONFIG_PATH": str(mine)}
    python = prefix / "bin" / "python"
    shown = subprocess.run(
        [str(python), "-m", "jupyter_userpkg", "policy", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(shown.stdout)
    assert data["policy"]["max_envs"] == 1
    assert data["origins"]["max_envs"] == str(admin)
    refused = subprocess.run(
        [str(python), "-m", "jupyter_userpkg", "create", "e", "-y", "evilpkg"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "evilpkg is blocked" in refused.stderr
    assert not (Path(env["JUPYTER_USERPKG_ENVS_DIR"]) / "e").exists()


def test_info_marks_what_is_blocked(
    cli: CLI,
    indexes: tuple[LocalIndex, LocalIndex],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    admin_policy: Callable[..., Path],
) -> None:
    good, _ = indexes
    write_policy(
        admin_policy() / POLICY,
        indexes=[good.url],
        blocked_versions=[{"name": "clipol", "versions": "==2.0", "reason": "broken build"}],
    )
    cli.configure(search_cache_dir=str(tmp_path / "search"))
    out = cli("info", "clipol", "--pypi").stdout
    assert "versions:" in out and "2.0 (blocked)" in out
    rule = "(blocked_versions: clipol ==2.0): broken build"
    assert f"clipol 2.0 is blocked by the administrator's policy {rule}" in out
