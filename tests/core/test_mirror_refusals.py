"""A package the administrator's mirror lacks, and every refused request, as users and
administrators meet them.

With ``"mirror": true`` in the policy, the indexes and channels it names are the
filtered mirror: a name or version they do not serve (uv's "not found in the package
registry" and "no version of", rattler's "No candidates were found") is
``not_in_mirror``, which says so and how to ask (the policy's ``mirror_request_help``).
Each such request, and each one the policy refuses, is one audit record with
``refused: true``; the env, its manifest and its history stay as they were.
Real uv on a local index, real rattler on a local channel.
"""

from __future__ import annotations

import json
import os
import pwd
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.core.errors import NotInMirror, PackageNotFound, PolicyDenied
from jupyter_userpkg.core.options import CondaOptions, UvOptions
from jupyter_userpkg.core.policy.rules import Policy, from_data
from jupyter_userpkg.core.refusals import DEFAULT_HELP
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import TestChannel
from tests.localindex import LocalIndex, build_wheel

ME = pwd.getpwuid(os.getuid()).pw_name
HELP = "open a ticket at https://help.example.org/packages"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    wheels = tmp_path_factory.mktemp("mirror-wheels")
    build_wheel(wheels, "mirrapp", "1.0", requires=["mirrdep>=2"])
    build_wheel(wheels, "mirrdep", "1.0")
    build_wheel(wheels, "mirrok", "1.0")
    with LocalIndex(wheels, json=True) as served:
        yield served


def service(envs_dir: Path, index: LocalIndex, conda: CondaOptions, **rules: Any) -> UserPkgService:
    policy = from_data(rules, "test policy") if rules else Policy()
    return UserPkgService(
        envs_dir,
        base_python=sys.executable,
        lock_timeout=600,
        kernels_dir=envs_dir.parent / "kernels",
        uv_options=UvOptions(default_index=index.url),
        conda_options=conda,
        policy=policy,
    )


def records(envs_dir: Path) -> list[dict[str, Any]]:
    path = envs_dir / ".audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def refused(envs_dir: Path) -> list[dict[str, Any]]:
    return [r for r in records(envs_dir) if r.get("refused")]


def state(svc: UserPkgService, env: str) -> tuple[Any, ...]:
    """What a refused change must leave as it was: revisions, manifest, lock, history."""
    store = svc.store
    return (
        store.revisions(env),
        store.read_manifest(env),
        store.read_lock(env),
        [r.command for r in svc.history(env)],
    )


@pytest.mark.parametrize(
    ("spec", "lacking", "named"),
    [
        ("mirrnone", "mirrnone", "mirrnone is not in the administrator's package mirror"),
        ("mirrok==9.9", "mirrok", "the version of mirrok this needs is not in"),
        ("mirrapp", "mirrdep", "the version of mirrdep this needs is not in"),
    ],
)
def test_what_the_mirror_lacks_says_so_and_how_to_ask_and_is_logged(
    envs_dir: Path,
    index: LocalIndex,
    conda_options: CondaOptions,
    spec: str,
    lacking: str,
    named: str,
) -> None:
    svc = service(
        envs_dir, index, conda_options, indexes=[index.url], mirror=True, mirror_request_help=HELP
    )
    svc.create("v", kind="venv", kernel=False, specs=["mirrok"])
    before = state(svc, "v")
    with pytest.raises(NotInMirror) as caught:
        svc.change("v", install=[spec])
    error = caught.value
    assert error.code == "not_in_mirror" and error.http_status == 404
    assert named in error.message and error.message.endswith(HELP)
    assert error.to_dict()["help"] == HELP
    assert state(svc, "v") == before
    (record,) = refused(envs_dir)
    assert record["user"] == ME and record["env"] == "v"
    assert record["command"] == f"install {spec}"
    assert record["code"] == "not_in_mirror" and record["reason"] == error.message
    assert record["dry_run"] is False
    assert record["packages"] == [lacking]


def test_without_a_mirror_a_missing_package_is_not_found_and_not_logged(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    svc = service(envs_dir, index, conda_options, indexes=[index.url])
    svc.create("v", kind="venv", kernel=False)
    with pytest.raises(PackageNotFound) as caught:
        svc.change("v", install=["mirrnone"])
    assert caught.value.code == "package_not_found"
    assert refused(envs_dir) == []


def test_the_default_help_names_mirror_plan(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    svc = service(envs_dir, index, conda_options, indexes=[index.url], mirror=True)
    svc.create("v", kind="venv", kernel=False)
    with pytest.raises(NotInMirror) as caught:
        svc.change("v", install=["mirrnone"], dry_run=True)
    assert caught.value.message.endswith(DEFAULT_HELP)
    assert "jupyter userpkg mirror plan" in caught.value.message
    (record,) = refused(envs_dir)
    assert record["dry_run"] is True  # a preview asked for it too


def test_a_policy_refusal_is_logged_once_and_changes_nothing(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    blocked = [{"name": "mirrok", "reason": "under review"}]
    svc = service(envs_dir, index, conda_options, blocked_packages=blocked)
    # The first change of ``default`` makes it: refused, it is not made, and logged once.
    with pytest.raises(PolicyDenied):
        svc.change(None, install=["mirrok"])
    assert not svc.store.exists("default")
    svc.create("v", kind="venv", kernel=False)
    before = state(svc, "v")
    with pytest.raises(PolicyDenied) as caught:
        svc.change("v", install=["mirrok==1.0"])
    assert state(svc, "v") == before
    found = refused(envs_dir)
    assert [(r["env"], r["command"], r["code"]) for r in found] == [
        ("default", "install mirrok", "policy_denied"),
        ("v", "install mirrok==1.0", "policy_denied"),
    ]
    assert found[1]["reason"] == caught.value.message and "under review" in found[1]["reason"]
    # Applied changes are logged as before, without the refused flag.
    assert [r["action"] for r in records(envs_dir) if not r.get("refused")] == ["create"]


def test_a_create_the_mirror_lacks_is_logged_and_leaves_no_env(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    svc = service(envs_dir, index, conda_options, indexes=[index.url], mirror=True)
    with pytest.raises(NotInMirror):
        svc.create("w", kind="venv", kernel=False, specs=["mirrnone"])
    assert not svc.store.exists("w") and not svc.store.prefix("w").exists()
    (record,) = refused(envs_dir)
    assert (record["env"], record["command"]) == ("w", "create w mirrnone")


def test_a_conda_package_the_mirror_lacks(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, conda_channel: TestChannel
) -> None:
    svc = service(
        envs_dir,
        index,
        conda_options,
        channels=[conda_channel.url],
        allow_user_channels=False,
        mirror=True,
        mirror_request_help=HELP,
    )
    svc.create("c", kind="conda", specs=["libfoo"], channels=[conda_channel.url], kernel=False)
    before = state(svc, "c")
    for spec, lack in (
        ("nosuchlib", "nosuchlib is not in the administrator's package mirror"),
        ("libfoo 9.*", "the version of libfoo this needs is not in the administrator's"),
    ):
        with pytest.raises(NotInMirror) as caught:
            svc.change("c", install=[spec])
        assert caught.value.message.startswith(lack)
        assert caught.value.message.endswith(HELP)
    assert state(svc, "c") == before
    assert [r["packages"] for r in refused(envs_dir)] == [["nosuchlib"], ["libfoo"]]


def test_a_refused_record_is_not_written_through_a_planted_link(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, tmp_path: Path
) -> None:
    svc = service(envs_dir, index, conda_options, indexes=[index.url], mirror=True)
    svc.create("v", kind="venv", kernel=False)
    log = envs_dir / ".audit.jsonl"
    log.unlink()
    target = tmp_path / "elsewhere.jsonl"
    target.write_text("")
    log.symlink_to(target)
    with pytest.raises(NotInMirror):  # the user's error, not the log's
        svc.change("v", install=["mirrnone"])
    assert target.read_text() == ""
