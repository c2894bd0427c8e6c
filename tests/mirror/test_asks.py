"""``mirror plan`` lists what users asked for and were refused, from their audit logs.

Users' servers write one audit record per refused request (the policy's refusal, or a
package the mirror lacks); the administrator's ``mirror plan`` reads the logs it can
find (``.audit.jsonl`` under the seed's ``envs`` globs) and lists who asked for what and
why it was refused.  The logs are users' files: who asked is the owner of the log, never
the name a record claims; a log that is a link or a FIFO is not read.  Real service,
real uv, the real CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.core.errors import NotInMirror, PolicyDenied
from jupyter_userpkg.core.options import CondaOptions, UvOptions
from jupyter_userpkg.core.policy.rules import from_data
from jupyter_userpkg.core.service import UserPkgService
from tests.localindex import LocalIndex
from tests.mirror.conftest import Site, make_site

DAEMON, BIN = 1, 2  # uids standing for two users (their names: daemon, bin)


def user_service(site: Site, user: str, index: LocalIndex) -> UserPkgService:
    """A user's server: the policy points at the mirror (here, the upstream stands in)."""
    envs = site.envs_dir(user)
    policy = from_data(
        {
            "indexes": [index.url],
            "mirror": True,
            "blocked_packages": [{"name": "evil", "reason": "known malicious"}],
        },
        "test policy",
    )
    return UserPkgService(
        envs,
        base_python=sys.executable,
        lock_timeout=60,
        kernels_dir=envs.parent / "kernels",
        conda_options=CondaOptions(default_channels=()),
        uv_options=UvOptions(default_index=index.url),
        policy=policy,
    )


def plan(site: Site) -> tuple[dict[str, Any], str]:
    cli = [sys.executable, "-m", "jupyter_userpkg", "mirror", "plan", "--config", str(site.config)]
    data = subprocess.run([*cli, "--json"], capture_output=True, text=True, timeout=600)
    assert data.returncode == 0, data.stderr
    text = subprocess.run(cli, capture_output=True, text=True, timeout=600)
    assert text.returncode == 0, text.stderr
    return json.loads(data.stdout), text.stdout


@pytest.fixture
def asked(tmp_path: Path, upstream: LocalIndex) -> Site:
    """daemon asked twice for a package the mirror lacks and once for a blocked one; the
    log then became theirs (as their server writes it)."""
    site = make_site(tmp_path / "site", upstream, None)
    svc = user_service(site, "alice", upstream)
    svc.create("analysis", kind="venv", kernel=False, specs=["app==2.0"])
    for _ in range(2):
        with pytest.raises(NotInMirror):
            svc.change("analysis", install=["nosuchpkg"])
    with pytest.raises(PolicyDenied):
        svc.change("analysis", install=["evil"], dry_run=True)
    envs = site.envs_dir("alice")
    os.chown(envs / "analysis", DAEMON, -1)
    os.chown(envs / ".audit.jsonl", DAEMON, -1)
    return site


def test_plan_lists_who_asked_for_what_and_why_it_was_refused(
    asked: Site, upstream: LocalIndex
) -> None:
    data, text = plan(asked)
    rows = [
        (a["user"], a["env"], a["command"], a["code"], a["times"]) for a in data["requests_refused"]
    ]
    assert sorted(rows) == [
        ("daemon", "analysis", "install evil", "policy_denied", 1),
        ("daemon", "analysis", "install nosuchpkg", "not_in_mirror", 2),
    ]
    lack = next(a for a in data["requests_refused"] if a["code"] == "not_in_mirror")
    assert lack["packages"] == ["nosuchpkg"]
    assert "nosuchpkg is not in the administrator's package mirror" in lack["reason"]
    assert "requests users made and were refused (audit logs) (2):" in text
    assert "daemon/analysis: install nosuchpkg (2 times, last " in text
    assert "not_in_mirror: nosuchpkg is not in the administrator's package mirror" in text
    # Applied changes are not requests to review.
    assert all(a["command"] != "create analysis app==2.0" for a in data["requests_refused"])


def test_who_asked_is_the_logs_owner_not_what_a_record_claims(
    asked: Site, upstream: LocalIndex
) -> None:
    log = asked.envs_dir("alice") / ".audit.jsonl"
    forged = {
        "refused": True,
        "user": "root",
        "env": "x",
        "command": "install forged",
        "code": "policy_denied",
        "reason": "r\x1b]0;owned\x07\x1b[31m red",
        "time": "2099-01-01T00:00:00+00:00",
    }
    with log.open("a") as fh:
        fh.write(json.dumps(forged) + "\nnot json\n" + json.dumps(["a list"]) + "\n")
    data, _ = plan(asked)
    (found,) = [a for a in data["requests_refused"] if a["command"] == "install forged"]
    assert found["user"] == "daemon"
    assert found["reason"] == "r ]0;owned [31m red"  # no escape reaches a terminal


def test_a_log_that_is_a_link_or_a_fifo_is_not_read(
    asked: Site, upstream: LocalIndex, tmp_path: Path
) -> None:
    # bin's log is a link to a file of JSON lines elsewhere (say, another user's log).
    elsewhere = tmp_path / "elsewhere.jsonl"
    record = {"refused": True, "env": "stolen", "command": "install secret", "code": "x"}
    elsewhere.write_text(json.dumps(record) + "\n")
    bins = asked.envs_dir("bin")
    bins.mkdir(parents=True)
    (bins / ".audit.jsonl").symlink_to(elsewhere)
    # and a third user's log is a FIFO: reading it must not wait for a writer.
    third = asked.envs_dir("sys")
    third.mkdir(parents=True)
    os.mkfifo(third / ".audit.jsonl")
    data, _ = plan(asked)
    assert {a["env"] for a in data["requests_refused"]} == {"analysis"}


def test_how_users_reach_the_mirror_is_no_rule_of_what_it_holds() -> None:
    """Pointing users at the mirror, or rewording how they ask, publishes no new snapshot."""
    from jupyter_userpkg.core.mirror.plan import policy_digest

    rules = {"blocked_packages": [{"name": "evil", "reason": "known malicious"}]}
    told = {**rules, "mirror": True, "mirror_request_help": "ask", "search_index": "/srv/i.tsv"}
    assert policy_digest(from_data(told, "a")) == policy_digest(from_data(rules, "b"))
    assert policy_digest(from_data({**rules, "pypi": False}, "c")) != policy_digest(
        from_data(rules, "b")
    )
