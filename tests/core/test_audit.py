"""The audit log against a user of the same machine: no forged name, no file of theirs.

Identity is the real uid's, whatever ``LOGNAME``/``USER`` say; a log file that another
user could read or rewrite (pre-created 0666, another user's, a symlink, a second hard
link) gets nothing written through it, and the user, ``doctor`` and the process's log
say so while the change itself stands.  ``audit_log = "syslog:..."`` reaches a real
datagram socket, stamped with the sender's credentials by the kernel.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import shutil
import socket
import struct
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jupyter_userpkg.commands.dispatch import Outcome, dispatch
from jupyter_userpkg.commands.grammar import parse_command
from jupyter_userpkg.commands.render import render_text
from jupyter_userpkg.core.options import CondaOptions
from jupyter_userpkg.core.service import UserPkgService

ME = pwd.getpwuid(os.getuid()).pw_name
SPOOFED = "mallory-spoofed"
FOREIGN = b'{"user": "someone else", "action": "create"}\n'


@pytest.fixture
def spoofed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user claims another name in every variable getpass would read."""
    for var in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(var, SPOOFED)


def service(envs_dir: Path, conda_options: CondaOptions, audit_log: Path | str) -> UserPkgService:
    return UserPkgService(
        envs_dir,
        base_python=sys.executable,
        lock_timeout=600,
        kernels_dir=envs_dir.parent / "kernels",
        conda_options=conda_options,
        audit_log=audit_log,
    )


def run(svc: UserPkgService, *argv: str) -> Outcome:
    return dispatch(svc, parse_command(list(argv)))


def create(svc: UserPkgService, name: str) -> Outcome:
    """An empty venv env: a change that needs no index."""
    return run(svc, "create", name, "--kind", "venv", "--no-kernel", "-y")


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_recorded_user_is_the_real_uids_not_the_environments(
    spoofed: None, envs_dir: Path, conda_options: CondaOptions
) -> None:
    svc = service(envs_dir, conda_options, "")
    svc.create("a", kind="venv", kernel=False)
    log = records(envs_dir / ".audit.jsonl")
    assert [(r["user"], r["action"], r["env"]) for r in log] == [(ME, "create", "a")]
    assert [r.user for r in svc.history("a")] == [ME]  # the revision record too
    assert os.stat(envs_dir / ".audit.jsonl").st_mode & 0o777 == 0o600


@pytest.fixture
def other_user() -> Iterator[int]:
    """The uid of a real Unix user other than the tester, made for the test (root only)."""
    if os.getuid() != 0:
        pytest.skip("making a second Unix user needs root (CI runs the tests as root)")
    if shutil.which("useradd") is None:
        pytest.skip("no useradd on this machine to make a second Unix user")
    name = f"upkgaud{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], check=True)
    try:
        yield pwd.getpwnam(name).pw_uid
    finally:
        subprocess.run(["userdel", name], check=False)


def precreated(path: Path) -> Path:
    """Another user's trick done by the tester: a world-writable file in place."""
    path.write_bytes(FOREIGN)
    os.chmod(path, 0o666)
    return path


def foreign(uid: int) -> Callable[[Path], Path]:
    def plant(path: Path) -> Path:
        path.write_bytes(FOREIGN)
        os.chown(path, uid, uid)
        os.chmod(path, 0o600)
        return path

    return plant


def symlinked(path: Path) -> Path:
    victim = path.parent.parent / "victim.jsonl"
    victim.write_bytes(FOREIGN)
    os.chmod(victim, 0o600)
    path.symlink_to(victim)
    return victim


def hardlinked(path: Path) -> Path:
    other = path.parent.parent / "kept-by-someone.jsonl"
    other.write_bytes(FOREIGN)
    os.chmod(other, 0o600)
    os.link(other, path)
    return other


@pytest.mark.parametrize(
    ("trick", "said"),
    [
        (precreated, "has mode 0666, not 0600"),
        ("other-user", "not to you"),
        (symlinked, "is a symbolic link"),
        (hardlinked, "has 2 links"),
    ],
    ids=["precreated-0666", "other-users-file", "symlink", "hard-link"],
)
def test_a_log_file_another_user_could_read_or_rewrite_is_refused(
    trick: Callable[[Path], Path] | str,
    said: str,
    request: pytest.FixtureRequest,
    envs_dir: Path,
    conda_options: CondaOptions,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    shared = tmp_path / "shared"  # like /var/log/jupyter-userpkg: everyone's, sticky
    shared.mkdir()
    os.chmod(shared, 0o1777)
    path = shared / f"{ME}.jsonl"
    if trick == "other-user":
        trick = foreign(request.getfixturevalue("other_user"))
    assert callable(trick)
    planted = trick(path)
    svc = service(envs_dir, conda_options, path)
    with caplog.at_level(logging.WARNING, logger="jupyter_userpkg"):
        outcome = create(svc, "a")
    # The change stands, and nothing was written through the planted file.
    assert outcome.value.revision == 0 and svc.store.exists("a")
    assert planted.read_bytes() == FOREIGN and path.read_bytes() == FOREIGN
    # The user is told, in the result and its text; the process's log says it too.
    (note,) = outcome.data["notes"]
    assert note.startswith("the change was made but not logged") and said in note
    assert f"warning: {note}" in render_text(outcome)
    assert any(said in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    (report,) = svc.doctor()
    assert not report["ok"]
    assert any("audit log is refused" in p and said in p for p in report["problems"])


def test_a_log_of_ones_own_is_accepted_and_doctor_is_quiet(
    envs_dir: Path, conda_options: CondaOptions, tmp_path: Path
) -> None:
    """The checks refuse tricks, not the ordinary case: a private file of the writer's."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    svc = service(envs_dir, conda_options, shared / f"{ME}.jsonl")
    assert create(svc, "a").data["notes"] == []
    assert create(svc, "b").data["notes"] == []
    assert [r["env"] for r in records(shared / f"{ME}.jsonl")] == ["a", "b"]
    assert all(r["ok"] for r in svc.doctor())
    # A private log dir made for the log is the user's alone.
    nested = tmp_path / "made" / "here" / "audit.jsonl"
    assert create(service(envs_dir, conda_options, nested), "c").data["notes"] == []
    assert os.stat(nested.parent).st_mode & 0o777 == 0o700


@pytest.fixture
def syslog_server(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """A datagram socket like /dev/log that asks the kernel for each sender's credentials."""
    path = str(tmp_path / "log.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    server.settimeout(30)
    try:
        yield path, server
    finally:
        server.close()


def received(server: socket.socket) -> tuple[str, int]:
    """One syslog message's text and the sender's uid as the kernel stamped it."""
    data, ancillary, _, _ = server.recvmsg(65536, socket.CMSG_SPACE(struct.calcsize("3i")))
    (uid,) = [
        struct.unpack("3i", payload)[1]
        for level, kind, payload in ancillary
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS
    ]
    return data.decode(), uid


def test_syslog_gets_each_record_stamped_with_the_senders_uid(
    spoofed: None,
    syslog_server: tuple[str, socket.socket],
    envs_dir: Path,
    conda_options: CondaOptions,
) -> None:
    path, server = syslog_server
    svc = service(envs_dir, conda_options, f"syslog:{path}")
    assert create(svc, "a").data["notes"] == []
    text, uid = received(server)
    assert uid == os.getuid()
    prefix = "<14>jupyter-userpkg: "  # facility user, priority info
    assert text.startswith(prefix) and text.endswith("\0")
    record = json.loads(text[len(prefix) : -1])
    assert (record["user"], record["action"], record["env"]) == (ME, "create", "a")
    assert not (envs_dir / ".audit.jsonl").exists()
    assert all(r["ok"] for r in svc.doctor())
    run(svc, "delete", "a")
    assert json.loads(received(server)[0][len(prefix) : -1])["action"] == "delete"


def test_an_unreachable_syslog_is_told_and_the_change_stands(
    envs_dir: Path, conda_options: CondaOptions, tmp_path: Path
) -> None:
    gone = tmp_path / "no-such.sock"
    svc = service(envs_dir, conda_options, f"syslog:{gone}")
    outcome = create(svc, "a")
    assert svc.store.exists("a")
    (note,) = outcome.data["notes"]
    assert f"syslog at {gone}" in note
    assert create(svc, "b").data["notes"]
    outcome = run(svc, "delete", "b")
    assert outcome.data["notes"] and "warning: the change was made" in render_text(outcome)
    (report,) = svc.doctor()
    assert any(f"cannot reach syslog at {gone}" in p for p in report["problems"])
