"""The policy on real engines: uv against a PyPI-style index on loopback, rattler against a
conda channel the test builds.  Refused versions are kept from the solver's choices, refused
requests fail with the rule, its reason and the nearest allowed version, and every refusal
leaves the env as it was."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.core.errors import PolicyDenied, UserPkgError
from jupyter_userpkg.core.options import CondaOptions, UvOptions
from jupyter_userpkg.core.policy.rules import Policy, from_data
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import TestChannel, build_package, index_channel
from tests.conftest import env_state
from tests.localindex import LocalIndex, build_wheel

OLD = 1577836800.0  # 2020-01-01
NEW = 1735689600.0  # 2025-01-01
RULES: dict[str, Any] = {
    "blocked_versions": [
        {
            "name": "polsec",
            "versions": "==2.0",
            "reason": "remote code execution",
            "advisory": "PYSEC-1",
        },
        {"name": "consec", "versions": ">=2", "reason": "data loss", "advisory": "GHSA-2"},
    ],
    "blocked_packages": [{"name": "Pol_Evil", "reason": "malware"}],
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    wheels = tmp_path_factory.mktemp("policy-wheels")
    for version in ("1.0", "2.0"):
        build_wheel(wheels, "polsec", version, license_expression="MIT", uploaded=OLD)
    build_wheel(
        wheels, "polapp", "1.0", requires=["polsec>=1.0"], license_expression="MIT", uploaded=OLD
    )
    build_wheel(
        wheels, "polbad", "1.0", requires=["pol_evil"], license_expression="MIT", uploaded=OLD
    )
    build_wheel(wheels, "pol_evil", "1.0", license_expression="MIT", uploaded=OLD)
    build_wheel(wheels, "polgpl", "1.0", license_expression="GPL-3.0-only", uploaded=OLD)
    build_wheel(
        wheels,
        "polclass",
        "1.0",
        classifiers=["License :: OSI Approved :: MIT License"],
        uploaded=OLD,
    )
    build_wheel(wheels, "polmix", "1.0", license_expression="MIT", uploaded=OLD)
    build_wheel(wheels, "polmix", "2.0", license_expression="GPL-3.0-only", uploaded=OLD)
    build_wheel(wheels, "polnew", "1.0", license_expression="MIT", uploaded=OLD)
    build_wheel(wheels, "polnew", "2.0", license_expression="MIT", uploaded=NEW)
    with LocalIndex(wheels, json=True) as served:
        yield served


#: A policy that could not be read: every package refused (fail closed).
CLOSED = Policy(error="policy /etc/jupyter/x.json is not valid JSON")


def service(
    envs_dir: Path,
    index: LocalIndex | None,
    conda: CondaOptions,
    *,
    policy: Policy | None = None,
    uv: UvOptions | None = None,
    **rules: Any,
) -> UserPkgService:
    """A service on ``index`` (or ``uv``'s indexes) within ``policy``, or the rules given."""
    if policy is None:
        policy = from_data(rules, "test policy") if rules else Policy()
    snapshot = policy.snapshot_time.isoformat() if policy.snapshot_time else ""
    if uv is None:
        assert index is not None
        uv = UvOptions(default_index=index.url)
    return UserPkgService(
        envs_dir,
        base_python=sys.executable,
        lock_timeout=600,
        kernels_dir=envs_dir.parent / "kernels",
        uv_options=replace(uv, exclude_newer=snapshot),
        conda_options=replace(conda, exclude_newer=snapshot),
        policy=policy,
    )


def versions(svc: UserPkgService, env: str) -> dict[str, str]:
    return {p.name: p.version for p in svc.packages(env) if p.source != "base"}


def test_pypi_blocked_versions(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    svc = service(envs_dir, index, conda_options, **RULES)
    svc.create("v", kind="venv", kernel=False)
    # Unpinned: the newest allowed version; as a dependency too.
    svc.change("v", install=["polsec"])
    assert versions(svc, "v")["polsec"] == "1.0"
    svc.change("v", install=["polapp"])
    assert versions(svc, "v") == {"polsec": "1.0", "polapp": "1.0"}
    before = env_state(envs_dir, "v")
    # Asked for by version: refused, with the rule, the reason and the nearest allowed version.
    with pytest.raises(PolicyDenied) as info:
        svc.change("v", install=["polsec==2.0"])
    message = info.value.message
    assert "polsec 2.0" in message and "remote code execution" in message
    assert "PYSEC-1" in message and "nearest allowed version is 1.0" in message
    # A package refused as a whole, asked for or as a dependency; in any spelling.
    for spec in ("POL.EVIL", "polbad"):
        with pytest.raises(PolicyDenied, match="malware"):
            svc.change("v", install=[spec])
    # A dry run answers the same; and nothing of the env changed.
    with pytest.raises(PolicyDenied):
        svc.change("v", install=["polsec==2.0"], dry_run=True)
    assert env_state(envs_dir, "v") == before


def test_pypi_licences_and_snapshot(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    svc = service(
        envs_dir,
        index,
        conda_options,
        allowed_licenses=["MIT", "BSD-3-Clause"],
        snapshot="2022-01-01",
    )
    svc.create("v", kind="venv", kernel=False)
    before = env_state(envs_dir, "v")
    with pytest.raises(PolicyDenied) as info:
        svc.change("v", install=["polgpl"])
    assert "polgpl 1.0" in info.value.message and "GPL-3.0-only" in info.value.message
    assert env_state(envs_dir, "v") == before
    svc.change("v", install=["polclass"])  # an MIT classifier is an MIT licence
    # Nothing newer than the snapshot is visible: 2.0 was uploaded in 2025.
    svc.change("v", install=["polnew"])
    assert versions(svc, "v")["polnew"] == "1.0"


def test_advisories_flow_down_and_update_fixes(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create("v", kind="venv", kernel=False, specs=["polsec"])
    assert versions(open_svc, "v")["polsec"] == "2.0"
    assert open_svc.list_envs()[0].advisories == ()
    svc = service(envs_dir, index, conda_options, **RULES)
    (info,) = svc.list_envs()
    (advisory,) = info.advisories
    assert advisory["package"] == "polsec" and advisory["version"] == "2.0"
    assert advisory["advisory"] == "PYSEC-1" and advisory["fix"] == "update polsec -n v"
    # Another change leaves it where it is (the advisory stays)...
    svc.change("v", install=["polnew"])
    assert versions(svc, "v")["polsec"] == "2.0"
    # ... the advised command moves it to the nearest allowed version.
    result = svc.change("v", update=["polsec"])
    assert [(c.name, c.old, c.new) for c in result.plan.changes] == [("polsec", "2.0", "1.0")]
    assert svc.list_envs()[0].advisories == ()
    check = svc.policy_check()
    assert check == []


def test_required_default_max_envs_and_audit(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    svc = service(
        envs_dir,
        index,
        conda_options,
        required_packages=["polsec"],
        default_packages=["polnew"],
        max_envs=2,
    )
    svc.create("a", kind="venv", kernel=False)
    assert set(versions(svc, "a")) == {"polsec", "polnew"}
    before = env_state(envs_dir, "a")
    with pytest.raises(PolicyDenied, match="required in every environment"):
        svc.change("a", remove=["polsec"])
    assert env_state(envs_dir, "a") == before
    svc.change("a", remove=["polnew"])  # a default package is the user's to remove
    svc.create("b", kind="venv", kernel=False, specs=["polsec==1.0"])
    assert versions(svc, "b")["polsec"] == "1.0"  # the user's spec, not a second one
    with pytest.raises(PolicyDenied, match="max_envs: 2"):
        svc.create("c", kind="venv", kernel=False)
    assert not svc.store.exists("c")
    svc.delete("b")
    every = [json.loads(line) for line in (envs_dir / ".audit.jsonl").read_text().splitlines()]
    log = [e for e in every if not e.get("refused")]
    assert [(e["env"], e["action"], e["revision"]) for e in log] == [
        ("a", "create", 0),
        ("a", "change", 1),
        ("b", "create", 0),
        ("b", "delete", None),
    ]
    # The refusals are logged as such, for the administrator's review.
    assert [(e["env"], e["command"]) for e in every if e.get("refused")] == [
        ("a", "remove polsec"),
        ("c", "create c"),
    ]
    assert [(c["name"], c["action"]) for c in log[1]["changes"]] == [("polnew", "remove")]
    assert all(e["user"] and e["time"] for e in log)
    assert (envs_dir / ".audit.jsonl").stat().st_mode & 0o077 == 0


def test_env_files_point_tools_at_the_policys_index(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, tmp_path: Path
) -> None:
    """``uv pip`` run in the env's kernel reads uv.toml (UV_CONFIG_FILE): the curated index."""
    svc = service(envs_dir, index, conda_options, indexes=[index.url], snapshot="2022-01-01")
    svc.create("v", kind="layer", specs=["polsec==1.0"])  # its kernel: the base's ipykernel
    prefix = svc.store.prefix("v")
    assert f"index-url = {index.url}" in (prefix / "pip.conf").read_text()
    spec = json.loads((envs_dir.parent / "kernels" / "userpkg-v" / "kernel.json").read_text())
    config = spec["env"]["UV_CONFIG_FILE"]
    assert config == str(prefix / "uv.toml")
    from jupyter_userpkg.core.pypi.uv import uv_bin

    out = subprocess.run(
        [
            uv_bin(),
            "pip",
            "compile",
            "-",
            "--config-file",
            config,
            "--no-header",
            "--cache-dir",
            str(tmp_path / "uv-cache"),
        ],
        input="polnew\n",
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=True,
    )
    assert "polnew==1.0" in out.stdout  # from the curated index, within its snapshot


# ------------------------------------------------------------------ conda


@pytest.fixture(scope="module")
def policy_channel(tmp_path_factory: pytest.TempPathFactory) -> TestChannel:
    root = tmp_path_factory.mktemp("policy-channel")
    path = root / "channel"
    stamps = iter(range(1_600_000_000_000, 1_600_000_000_000 + 100_000, 1000))
    for version in ("1.0", "2.0", "2.1"):
        build_package(
            path,
            "consec",
            version,
            noarch="generic",
            timestamp=next(stamps),
            files={"share/consec/VERSION": version},
        )
    build_package(
        path,
        "conapp",
        "1.0",
        noarch="generic",
        depends=["consec"],
        timestamp=next(stamps),
        files={"share/conapp/ok": "ok\n"},
    )
    for version, licence in (("1.0", "MIT"), ("2.0", "GPL-3.0-only")):
        build_package(
            path,
            "conlic",
            version,
            noarch="generic",
            license=licence,
            timestamp=next(stamps),
            files={"share/conlic/VERSION": version},
        )
    build_package(
        path,
        "congpl",
        "1.0",
        noarch="generic",
        license="GPL-3.0-only",
        timestamp=next(stamps),
        files={"share/congpl/ok": "ok\n"},
    )
    build_package(
        path,
        "connew",
        "1.0",
        noarch="generic",
        timestamp=1_600_000_000_000,
        files={"share/connew/VERSION": "1.0"},
    )
    build_package(
        path,
        "connew",
        "2.0",
        noarch="generic",
        timestamp=1_735_689_600_000,
        files={"share/connew/VERSION": "2.0"},
    )
    index_channel(path)
    published_when_built(path)
    return TestChannel(path, path.as_uri())


def published_when_built(channel: Path) -> None:
    """A channel whose packages were published as they were built, over the years: each
    record's ``indexed_timestamp`` (what rattler's ``exclude_newer`` reads) is its build's."""
    for subdir in ("noarch", "linux-64"):
        repodata = channel / subdir / "repodata.json"
        data = json.loads(repodata.read_text())
        for table in ("packages", "packages.conda"):
            for record in data.get(table, {}).values():
                record["indexed_timestamp"] = record["timestamp"]
        repodata.write_text(json.dumps(data))
        (channel / subdir / "repodata.json.zst").unlink(missing_ok=True)
        (channel / subdir / "repodata_shards.msgpack.zst").unlink(missing_ok=True)
        shutil.rmtree(channel / subdir / "shards", ignore_errors=True)


def test_conda_rules(
    envs_dir: Path,
    index: LocalIndex,
    conda_options: CondaOptions,
    policy_channel: TestChannel,
    conda_channel: TestChannel,
) -> None:
    svc = service(
        envs_dir,
        index,
        conda_options,
        **RULES,
        allowed_licenses=["MIT"],
        snapshot="2022-01-01",
        channels=[policy_channel.url],
    )
    ch = [policy_channel.url]
    svc.create("c", kind="conda", specs=["conapp", "conlic", "connew"], channels=ch)
    got = versions(svc, "c")
    # consec 2.x blocked (a dependency), conlic 2.0 GPL, connew 2.0 after the snapshot.
    assert (got["consec"], got["conlic"], got["connew"]) == ("1.0", "1.0", "1.0")
    before = env_state(envs_dir, "c")
    with pytest.raises(PolicyDenied) as info:
        svc.change("c", install=["consec >=2"])
    assert "data loss" in info.value.message and "GHSA-2" in info.value.message
    assert "nearest allowed version is 1.0" in info.value.message
    with pytest.raises(PolicyDenied, match=r"GPL-3\.0-only"):
        svc.change("c", install=["congpl"])
    # Only the curated channel: another one is refused, as a -c or in a spec.
    with pytest.raises(PolicyDenied, match="curated channels"):
        svc.change("c", install=[f"{conda_channel.url}::bar"])
    with pytest.raises(PolicyDenied, match="curated channels"):
        svc.create("d", kind="conda", specs=["bar"], channels=[conda_channel.url])
    assert not svc.store.exists("d")
    assert env_state(envs_dir, "c") == before
    # A conda env's prefix gets a .condarc naming the curated channel.
    assert policy_channel.url in (svc.store.prefix("c") / ".condarc").read_text()


def test_policy_check_before_a_rule_is_enforced(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, policy_channel: TestChannel
) -> None:
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create("c", kind="conda", specs=["consec 2.1"], channels=[policy_channel.url])
    open_svc.create("v", kind="venv", kernel=False, specs=["polgpl"])
    stricter = from_data({**RULES, "allowed_licenses": ["MIT"], "max_envs": 1}, "new.json")
    found = open_svc.policy_check(stricter)
    by_env = {entry["env"]: entry["violations"] for entry in found}
    assert [v["rule"] for v in by_env[None]] == ["max_envs"]
    (consec,) = by_env["c"]
    assert (consec["package"], consec["version"], consec["fix"]) == (
        "consec",
        "2.1",
        "update consec -n c",
    )
    (gpl,) = by_env["v"]
    assert gpl["rule"] == "allowed_licenses" and "GPL-3.0-only" in gpl["reason"]


def test_files_given_to_create_from_are_judged_too(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, tmp_path: Path
) -> None:
    """A lock installed exactly is not solved: its packages are judged all the same."""
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create("src", kind="venv", kernel=False, specs=["polgpl", "polsec==2.0"])
    lock = tmp_path / "pylock.toml"
    lock.write_text(open_svc.export("src", "lock"))
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("polsec\n")
    strict = service(envs_dir, index, conda_options, allowed_licenses=["MIT"], **RULES)
    with pytest.raises(PolicyDenied, match=r"polsec 2\.0"):
        strict.create("copy", from_file=str(lock), kind="venv")
    licences_only = service(envs_dir, index, conda_options, allowed_licenses=["MIT"])
    with pytest.raises(PolicyDenied, match=r"polgpl 1\.0 .*GPL-3\.0-only"):
        licences_only.create("copy", from_file=str(lock), kind="venv")
    assert not strict.store.exists("copy")
    strict.create("fromreqs", from_file=str(reqs), kind="venv", kernel=False)
    assert versions(strict, "fromreqs")["polsec"] == "1.0"


@pytest.mark.parametrize(
    "spec",
    [
        "pol_evil @ https://example.org/pol_evil-1.0-py3-none-any.whl",
        "git+https://example.org/pol_evil.git@v1",
        "./pol_evil-1.0-py3-none-any.whl",
        "/tmp/pol_evil",
        "--index-url=https://example.org/simple",
        "polsec --extra-index-url https://example.org/simple",
        "polsec\n--find-links /tmp",
        "Pol-Evil",
        "POL.EVIL[extra]>=0",
    ],
)
def test_a_rule_cannot_be_dodged(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, spec: str
) -> None:
    svc = service(envs_dir, index, conda_options, **RULES)
    svc.create("v", kind="venv", kernel=False)
    before = env_state(envs_dir, "v")
    with pytest.raises(UserPkgError) as info:
        svc.change("v", install=[spec])
    assert info.value.code in ("invalid_spec", "policy_denied")
    assert env_state(envs_dir, "v") == before


def test_managed_pythons_only_when_the_policy_allows(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    from jupyter_userpkg.commands.config import UserPkg
    from jupyter_userpkg.core.policy.sources import Loaded

    config = UserPkg()
    config.envs_dir = str(envs_dir)
    closed = UserPkgService.from_config(config, Loaded(Policy(), {}))
    assert "--no-python-downloads" in closed.uv.args()
    opened = UserPkgService.from_config(
        config, Loaded(from_data({"python_downloads": True}, "test"), {})
    )
    assert "--no-python-downloads" not in opened.uv.args()


def test_a_pin_the_policy_now_refuses(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    """A request pinned to a version blocked since: other changes go on (the advisory
    stays), and the advised ``update`` moves the pin to the nearest allowed version."""
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create("v", kind="venv", kernel=False, specs=["polsec==2.0"])
    svc = service(envs_dir, index, conda_options, **RULES)
    svc.change("v", install=["polclass"])
    assert versions(svc, "v") == {"polsec": "2.0", "polclass": "1.0"}
    (advisory,) = svc.env_info("v").advisories
    assert advisory["fix"] == "update polsec -n v"
    result = svc.change("v", update=["polsec"])
    assert [(c.name, c.old, c.new) for c in result.plan.changes] == [("polsec", "2.0", "1.0")]
    assert svc.store.read_manifest("v", result.revision or 0).pypi["polsec"] == "polsec==1.0"
    assert svc.env_info("v").advisories == ()


def test_an_unreadable_policy_still_lets_a_package_go(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    """Fail closed means nothing comes in, not that nothing can be removed; and no check
    of the envs is made against a policy that cannot be read."""
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create("v", kind="venv", kernel=False, specs=["polsec", "polclass"])
    closed = service(envs_dir, index, conda_options, policy=CLOSED)
    closed.change("v", remove=["polclass"])
    assert versions(closed, "v") == {"polsec": "2.0"}
    with pytest.raises(PolicyDenied, match="nothing can be installed"):
        closed.change("v", install=["polnew"])
    with pytest.raises(UserPkgError, match="cannot be checked"):
        closed.policy_check()


def test_a_dependency_left_without_allowed_versions(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    """Every version of a dependency blocked: the refusal names the rule and its reason,
    not a bare "unsatisfiable"; the env is as it was."""
    rule = {"name": "polsec", "versions": ">=1", "reason": "unmaintained", "advisory": "X-1"}
    svc = service(envs_dir, index, conda_options, blocked_versions=[rule])
    svc.create("v", kind="venv", kernel=False)
    before = env_state(envs_dir, "v")
    with pytest.raises(PolicyDenied) as info:
        svc.change("v", install=["polapp"])
    assert "no solution within the administrator's policy" in info.value.message
    assert "polsec" in info.value.message and "unmaintained" in info.value.message
    assert "polapp" in (info.value.details or "")  # then the solver's explanation
    assert env_state(envs_dir, "v") == before


def test_a_refused_first_change_leaves_no_audit_record(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    svc = service(envs_dir, index, conda_options, **RULES)
    with pytest.raises(PolicyDenied, match="malware"):
        svc.change(install=["polbad"])  # refused at the dependency, during the solve
    assert not svc.store.exists("default")
    audit = envs_dir / ".audit.jsonl"
    log = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(e["env"], e["action"], e["command"]) for e in log] == [
        ("default", "refused", "install polbad")  # the request, not a change
    ]
    svc.change(install=["polclass"])
    log = [json.loads(line) for line in audit.read_text().splitlines()][1:]
    assert [(e["env"], e["action"], e["revision"]) for e in log] == [("default", "change", 1)]


def test_conda_records_are_judged_however_a_plan_came_to_them(
    envs_dir: Path,
    index: LocalIndex,
    conda_options: CondaOptions,
    policy_channel: TestChannel,
    conda_channel: TestChannel,
) -> None:
    """A rollback installs records without a solve; a ``[channel=...]`` spec names its own
    channel; a user's ``channel_alias`` could make a curated name another server: each is
    judged by the policy all the same, and a refusal leaves the env as it was."""
    ch = [policy_channel.url]
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create("c", kind="conda", specs=["conlic 1.0", "connew 1.0"], channels=ch)
    open_svc.change("c", install=["conlic 2.0", "connew 2.0"])  # GPL, after the snapshot
    open_svc.change("c", install=["conlic 1.0", "connew 1.0"])
    before = env_state(envs_dir, "c")
    licensed = service(envs_dir, index, conda_options, allowed_licenses=["MIT"])
    with pytest.raises(PolicyDenied, match=r"conlic 2\.0 .*GPL-3\.0-only"):
        licensed.rollback(1, "c")
    dated = service(envs_dir, index, conda_options, snapshot="2022-01-01")
    with pytest.raises(PolicyDenied, match=r"connew 2\.0 .*snapshot"):
        dated.rollback(1, "c")
    assert env_state(envs_dir, "c") == before
    licensed.rollback(0, "c")  # what the policy allows rolls back as before

    curated = service(envs_dir, index, conda_options, channels=ch)
    with pytest.raises(PolicyDenied, match="curated channels"):
        curated.change("c", install=[f"bar[channel={conda_channel.url}]"])
    # Curated by name, without an alias of the policy's: the user's alias is not used.
    named = from_data({"channels": ["channel"]}, "test policy")
    alias = policy_channel.path.parent.as_uri() + "/"
    by_name = service(envs_dir, index, replace(conda_options, channel_alias=alias), policy=named)
    with pytest.raises(PolicyDenied, match="curated channels"):
        by_name.create("d", kind="conda", specs=["conlic"], channels=["channel"])
    assert not by_name.store.exists("d")


def test_a_lock_cannot_vouch_for_a_licence(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, tmp_path: Path
) -> None:
    """An imported lock whose wheel URL for a GPL package points at an MIT package's wheel:
    the licence is read from the wheel the index lists for that version, not the lock's."""
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create("src", kind="venv", kernel=False, specs=["polgpl"])
    text = open_svc.export("src", "lock")
    assert "polgpl-1.0-py3-none-any.whl" in text
    forged = tmp_path / "pylock.toml"
    forged.write_text(text.replace("polgpl-1.0-py3-none-any.whl", "polclass-1.0-py3-none-any.whl"))
    strict = service(envs_dir, index, conda_options, allowed_licenses=["MIT"])
    with pytest.raises(PolicyDenied, match=r"polgpl 1\.0 .*GPL-3\.0-only"):
        strict.create("copy", from_file=str(forged), kind="venv")
    assert not strict.store.exists("copy")


def test_required_packages_in_files_and_layers(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, tmp_path: Path
) -> None:
    """A file to solve from gets the required packages; a lock must hold them; a layer
    whose base provides one has it (``policy --check`` agrees)."""
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create("src", kind="venv", kernel=False, specs=["polclass"])
    lock = tmp_path / "pylock.toml"
    lock.write_text(open_svc.export("src", "lock"))
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("polclass\n")
    svc = service(envs_dir, index, conda_options, required_packages=["polsec"])
    svc.create("fromreqs", from_file=str(reqs), kind="venv", kernel=False)
    assert set(versions(svc, "fromreqs")) == {"polclass", "polsec"}
    with pytest.raises(PolicyDenied, match="polsec is required in every environment"):
        svc.create("fromlock", from_file=str(lock), kind="venv")
    assert not svc.store.exists("fromlock")
    # The base interpreter of a layer has packaging: a layer has it without holding it.
    base = service(envs_dir, index, conda_options, required_packages=["packaging"])
    base.create("lay", kind="layer", kernel=False, specs=["polclass"])
    assert "packaging" not in versions(base, "lay")
    assert [e for e in base.policy_check() if e["env"] == "lay"] == []
    assert sorted(e["env"] for e in base.policy_check()) == ["fromreqs", "src"]  # venvs: none


def test_an_unpinned_request_is_steered_off_a_refused_licence(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions
) -> None:
    """polmix 2.0 is GPL, 1.0 MIT: with only MIT allowed, ``install polmix`` gets 1.0."""
    svc = service(envs_dir, index, conda_options, allowed_licenses=["MIT"])
    svc.create("v", kind="venv", kernel=False)
    svc.change("v", install=["polmix"])
    assert versions(svc, "v")["polmix"] == "1.0"
    with pytest.raises(PolicyDenied, match=r"polmix 2\.0 .*GPL-3\.0-only"):
        svc.change("v", install=["polmix==2.0"])


def test_any_channel_and_a_conda_env_without_pypi(
    envs_dir: Path,
    index: LocalIndex,
    conda_options: CondaOptions,
    policy_channel: TestChannel,
    conda_channel: TestChannel,
) -> None:
    """``*::name`` is any of the env's (curated) channels, not a channel of its own; with
    ``pypi: false`` a conda env whose channels lack ipykernel gets no kernel, and nothing
    from PyPI."""
    svc = service(envs_dir, index, conda_options, channels=[policy_channel.url])
    svc.create("c", kind="conda", kernel=False, specs=["conlic 1.0"], channels=[policy_channel.url])
    svc.change("c", install=["*::connew"])
    assert "connew" in versions(svc, "c")
    closed = service(envs_dir, index, conda_options, pypi=False)
    result = closed.create("p", kind="conda", specs=["pyfoo"], channels=[conda_channel.url])
    assert not [p for p in closed.packages("p") if p.source == "pypi"]
    assert any("gets no kernel" in m for m in result.plan.messages)
    assert not (closed.kernels_dir / "userpkg-p").exists()


def test_a_conda_pin_the_policy_now_refuses(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, policy_channel: TestChannel
) -> None:
    """As for PyPI: other changes go on, the advised ``update`` moves the pin."""
    ch = [policy_channel.url]
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create("c", kind="conda", kernel=False, specs=["consec 2.1"], channels=ch)
    svc = service(envs_dir, index, conda_options, **RULES)
    svc.change("c", install=["conlic 1.0"])
    assert versions(svc, "c")["consec"] == "2.1"
    (advisory,) = svc.env_info("c").advisories
    assert advisory["fix"] == "update consec -n c"
    result = svc.change("c", update=["consec"])
    assert [(c.name, c.old, c.new) for c in result.plan.changes] == [("consec", "2.1", "1.0")]
    assert svc.store.read_manifest("c", result.revision or 0).conda["consec"] == "consec ==1.0"
    assert svc.env_info("c").advisories == ()


def test_a_conda_lock_cannot_vouch_for_its_packages(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, policy_channel: TestChannel
) -> None:
    """A lock edited to say a GPL package is MIT, or that a package is older than it is:
    each package is judged as its channel serves it."""
    ch = [policy_channel.url]
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create("src", kind="conda", kernel=False, specs=["conlic 2.0"], channels=ch)
    text = open_svc.export("src", "lock")
    assert text.count("GPL-3.0-only") == 1 and "  subdir: noarch\n" in text
    lock = envs_dir.parent / "forged.toml"
    lock.write_text(text.replace("GPL-3.0-only", "MIT"))
    strict = service(envs_dir, index, conda_options, allowed_licenses=["MIT"])
    with pytest.raises(PolicyDenied, match=r"conlic 2\.0 .*GPL-3\.0-only"):
        strict.create("copy", from_file=str(lock), kind="conda")
    assert not strict.store.exists("copy")
    # A version rule judges the version the channel serves under that file name.
    blocked = service(
        envs_dir,
        index,
        conda_options,
        blocked_versions=[{"name": "conlic", "versions": "==2.0", "reason": "bad"}],
    )
    lock.write_text(text.replace("  subdir: noarch\n", "  subdir: noarch\n  version: '1.0'\n"))
    with pytest.raises(PolicyDenied, match=r"conlic 2\.0 .*bad"):
        blocked.create("copy", from_file=str(lock), kind="conda")
    assert not blocked.store.exists("copy")


def test_conda_requests_held_already_are_not_judged_again(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, policy_channel: TestChannel
) -> None:
    """A conda env under a policy that cannot be read, or that refuses a package it holds:
    removing and other changes go on; a PyPI pin in it is moved by ``update``."""
    ch = [policy_channel.url]
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create(
        "c", kind="conda", kernel=False, specs=["conlic 1.0", "connew 1.0"], channels=ch
    )
    refusing = service(
        envs_dir, index, conda_options, blocked_packages=[{"name": "conlic", "reason": "gone"}]
    )
    refusing.change("c", install=["conapp"])
    refusing.change("c", remove=["connew"])
    assert set(versions(refusing, "c")) >= {"conlic", "conapp", "consec"}
    closed = service(envs_dir, index, conda_options, policy=CLOSED)
    closed.change("c", remove=["conapp"])
    assert "conapp" not in versions(closed, "c")


def test_a_pypi_pin_in_a_conda_env_is_moved_by_update(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, conda_channel: TestChannel
) -> None:
    open_svc = service(envs_dir, index, conda_options)
    open_svc.create(
        "cp",
        kind="conda",
        kernel=False,
        specs=["python"],
        pypi_specs=["polsec==2.0"],
        channels=[conda_channel.url],
    )
    svc = service(envs_dir, index, conda_options, **RULES)
    result = svc.change("cp", update=["polsec"])
    assert [(c.name, c.old, c.new) for c in result.plan.changes] == [("polsec", "2.0", "1.0")]
    assert svc.store.read_manifest("cp", result.revision or 0).pypi["polsec"] == "polsec==1.0"


def test_licences_of_packages_from_an_extra_index(
    envs_dir: Path, index: LocalIndex, conda_options: CondaOptions, tmp_path: Path
) -> None:
    """A package the default index lacks comes from an extra one: its licence is read there."""
    wheels = tmp_path / "extra-wheels"
    wheels.mkdir()
    build_wheel(wheels, "polextra", "1.0", license_expression="MIT", uploaded=OLD)
    build_wheel(wheels, "polextragpl", "1.0", license_expression="GPL-3.0-only", uploaded=OLD)
    with LocalIndex(wheels, json=True) as extra:
        uv = UvOptions(default_index=index.url, extra_index_urls=(extra.url,))
        svc = service(envs_dir, None, conda_options, uv=uv, allowed_licenses=["MIT"])
        svc.create("v", kind="venv", kernel=False, specs=["polextra", "polclass"])
        assert set(versions(svc, "v")) == {"polextra", "polclass"}
        with pytest.raises(PolicyDenied, match=r"polextragpl 1\.0 .*GPL-3\.0-only"):
            svc.change("v", install=["polextragpl"])
