"""What users asked for and did not get: the refused requests of their audit logs.

Each user's server writes one audit record with ``"refused": true`` for a
request the policy refused or the mirror lacked (:mod:`..refusals`).  ``mirror
plan`` reads them, for the administrator's review, from every log it can find:
``<envs dir>/.audit.jsonl`` under each of the seed's ``envs`` globs (the default
place) and the administrator's ``audit_log`` setting (``{user}`` matching any
name).  A log sent to syslog is not read here (a note says where it is).

The builder runs as the administrator over files users write, so a log is read
like any of them: opened without following a link, only when it is a regular
file (never a FIFO or a device planted under the name), at most :data:`LIMIT`
bytes of its end, each field cut to a line.  Who asked is the owner of the log
file, never the ``user`` a record claims (its owner can write any text in it).
"""

from __future__ import annotations

import glob
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import MirrorConfig
from .seeds import owner

#: The default log's name in an envs dir (``UserPkg.audit_log`` unset).
DEFAULT_LOG = ".audit.jsonl"
#: Bytes of a log's end that are read (the most recent requests).
LIMIT = 4 * 1024 * 1024
#: Characters kept of each field a user wrote.
FIELD = 300


@dataclass(frozen=True)
class Ask:
    """A refused request, as often as it was made: who, which env, what, why, when last."""

    user: str
    env: str
    command: str
    code: str
    reason: str
    packages: tuple[str, ...]
    last: str
    times: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "env": self.env,
            "command": self.command,
            "code": self.code,
            "reason": self.reason,
            "packages": list(self.packages),
            "last": self.last,
            "times": self.times,
        }


def log_paths(config: MirrorConfig, audit_log: str | None) -> tuple[list[Path], list[str]]:
    """The audit logs to read, and notes on the ones that cannot be."""
    notes: list[str] = []
    found: list[Path] = []
    for pattern in config.seed.envs:
        found += [Path(p) / DEFAULT_LOG for p in glob.glob(os.path.expanduser(pattern))]
    if audit_log:
        if audit_log == "syslog" or audit_log.startswith("syslog:"):
            notes.append(
                "refused requests go to syslog (audit_log); read them there: "
                "journalctl -t jupyter-userpkg"
            )
        elif not audit_log.startswith("~"):  # a user's home: the envs globs find those
            found += [Path(p) for p in glob.glob(glob.escape(audit_log).replace("{user}", "*"))]
    return sorted(set(found)), notes


def _read_tail(path: Path) -> tuple[str, bytes] | None:
    """(owner, the last ``LIMIT`` bytes) of a regular file, opened without following a
    link nor blocking on a FIFO; None when there is none such."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        start = max(0, info.st_size - LIMIT)
        os.lseek(fd, start, os.SEEK_SET)
        data = os.read(fd, LIMIT)
        if start:
            data = data.partition(b"\n")[2]  # the first line is cut
        return owner(path), data
    finally:
        os.close(fd)


def _text(value: object) -> str:
    """A field a user wrote, as one line of printable text (no terminal escapes reach
    the administrator's terminal), cut to :data:`FIELD` characters."""
    if not isinstance(value, str | int):
        return ""
    printable = "".join(c if c.isprintable() else " " for c in str(value))
    return " ".join(printable.split())[:FIELD]


def _ask(user: str, record: Any) -> Ask | None:
    if not isinstance(record, dict) or record.get("refused") is not True:
        return None
    packages = record.get("packages")
    names = tuple(_text(p) for p in packages[:20]) if isinstance(packages, list) else ()
    return Ask(
        user,
        _text(record.get("env")),
        _text(record.get("command")),
        _text(record.get("code")),
        _text(record.get("reason")),
        names,
        _text(record.get("time")),
    )


def refused_requests(config: MirrorConfig, audit_log: str | None) -> tuple[list[Ask], list[str]]:
    """Every refused request of the logs, one per (user, env, request, code), latest
    first, and notes on what could not be read."""
    paths, notes = log_paths(config, audit_log)
    merged: dict[tuple[str, str, str, str], Ask] = {}
    for path in paths:
        got = _read_tail(path)
        if got is None:
            continue
        user, data = got
        for line in data.splitlines():
            try:
                ask = _ask(user, json.loads(line))
            except (ValueError, UnicodeDecodeError):
                continue
            if ask is None:
                continue
            key = (ask.user, ask.env, ask.command, ask.code)
            seen = merged.get(key)
            if seen is not None:
                latest = ask if ask.last >= seen.last else seen
                ask = Ask(**{**latest.__dict__, "times": seen.times + 1})
            merged[key] = ask
    return sorted(merged.values(), key=lambda a: a.last, reverse=True), notes
