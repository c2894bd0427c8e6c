"""Which files count as the administrator's: fixed places, owned by whom may write them.

A hub user with a terminal sets every variable of their processes and writes
every file in their home and their envs.  So the administrator's dirs are
not taken from anything a caller names (``XDG_*``, ``JUPYTER_*``,
``sys.prefix``, a ``.pth`` marker): they are ``etc/jupyter`` of the Python
environment this package is installed in, found from the package's own files,
and the system dirs ``/usr/local/etc/jupyter`` and ``/etc/jupyter``.

A file read there is the administrator's only if no one else could have
written it: the file and every directory above it (the path as written and
the path its links resolve to) must be owned by a trusted account and not
writable by any other.  The trusted accounts are root and the account that
owns this package's installed files (who can change the code can change
anything the code reads; on a hub that is root or the administrator's
service account, never an ordinary user).  A sticky directory such as
``/tmp`` is no hole: other users cannot replace the entries in it that they
do not own, and those entries are checked in turn.
"""

from __future__ import annotations

import functools
import json
import os
import stat
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

#: System config dirs an administrator writes (jupyter_core's own list follows
#: the caller's ``JUPYTER_PLATFORM_DIRS`` / ``XDG_CONFIG_DIRS``, so it is not used).
SYSTEM_DIRS = (Path("/usr/local/etc/jupyter"), Path("/etc/jupyter"))

_PACKAGE = Path(__file__).resolve().parents[2]  # .../jupyter_userpkg


class Untrusted(Exception):
    """A file in an administrator's place that someone else could have written."""


def admin_dirs() -> list[Path]:
    """The environment and system Jupyter config dirs, most specific first.

    Raises :class:`Untrusted` when the package is an editable install whose only
    installation records lie where other users write (so no env dir can be named),
    or when this process runs in a user namespace it made (:func:`foreign_namespace`).
    """
    foreign = foreign_namespace()
    if foreign:
        raise Untrusted(foreign)
    prefix = install_prefix()
    env = [prefix / "etc" / "jupyter"] if prefix is not None else []
    return [*env, *SYSTEM_DIRS]


def install_prefix() -> Path | None:
    """The prefix of the Python environment this package is installed in.

    From the package's own location (``<prefix>/lib/pythonX.Y/site-packages``),
    not ``sys.prefix`` (in a layer env's kernel that is the user's env).  An
    editable install's code lies in its source tree: its prefix is that of the
    installation record that points at this tree, the first one on ``sys.path``
    that a trusted account owns (a record a user planted in a dir of theirs is
    passed over). None when there is no such record (the code runs from a tree
    that was never installed).
    """
    site = _PACKAGE.parent
    if site.name in ("site-packages", "dist-packages"):
        return _prefix_of(site)
    planted: list[str] = []
    for entry in dict.fromkeys(sys.path):
        if Path(entry).name not in ("site-packages", "dist-packages"):
            continue
        for record in _records(Path(entry)):
            if _editable_source(record) != site:
                continue
            prefix = _prefix_of(Path(entry))
            reason = untrusted_reason(record)
            if prefix is not None and reason is None:
                return prefix
            planted.append(reason or str(record))
    if planted:
        raise Untrusted(f"the installation record of jupyter-userpkg is refused: {planted[0]}")
    return None


def _records(site: Path) -> list[Path]:
    try:
        return sorted(site.glob("jupyter_userpkg-*.dist-info"))
    except OSError:
        return []


def _editable_source(record: Path) -> Path | None:
    """The source tree an editable install's record points at (PEP 610's direct_url.json)."""
    try:
        data = json.loads((record / "direct_url.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = data.get("url", "") if isinstance(data, dict) else ""
    if not isinstance(url, str) or not url.startswith("file://"):
        return None
    return Path(unquote(urlparse(url).path)).resolve()


def _prefix_of(site: Path) -> Path | None:
    lib = site.parent.parent  # <prefix>/lib/pythonX.Y/site-packages
    return lib.parent if lib.name in ("lib", "lib64") else None


def _overflow_uid() -> int:
    """The uid a user namespace shows for owners it does not map (65534 by default)."""
    try:
        return int(Path("/proc/sys/kernel/overflowuid").read_text().strip())
    except (OSError, ValueError):
        return 65534


def foreign_namespace() -> str | None:
    """Why this process cannot tell the administrator's files apart, or None.

    In a user namespace an ordinary user made (``unshare -Ur``), they are "root" and
    may mount over ``/etc/jupyter``; the real root's files, this package's among them,
    show the overflow uid there, since that namespace does not map their owner.  A
    container's own user namespace maps its image's owner, so it is not refused.
    """
    if os.name == "nt":
        return None
    try:
        owner = os.stat(_PACKAGE).st_uid
    except OSError:
        return None
    if owner != _overflow_uid() or owner == os.getuid():
        return None
    return (
        "jupyter-userpkg runs in a user namespace that does not map the owner of its own "
        f"files ({_PACKAGE}); the administrator's files cannot be told apart there, so "
        "nothing can be installed: run it outside that namespace"
    )


@functools.cache
def trusted_uids() -> frozenset[int]:
    """Root and the owner of this package's files."""
    try:
        owner = os.stat(_PACKAGE).st_uid
    except OSError:
        owner = 0
    return frozenset({0, owner} - {_overflow_uid()})


def _name(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


@functools.cache
def _group_writers_trusted(gid: int) -> bool:
    """Are all members of a group trusted accounts (then its write bit is no hole)?"""
    import grp
    import pwd

    try:
        members = set(grp.getgrgid(gid).gr_mem)
    except KeyError:
        return gid == 0
    uids = {p.pw_uid for p in pwd.getpwall() if p.pw_gid == gid or p.pw_name in members}
    return uids <= trusted_uids()


def _check_one(path: Path, info: os.stat_result) -> str | None:
    trusted = trusted_uids()
    if info.st_uid not in trusted:
        return f"{path} is owned by {_name(info.st_uid)}"
    if stat.S_ISLNK(info.st_mode):
        return None  # a link's own mode means nothing; its target is checked as well
    sticky = stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX
    if info.st_mode & stat.S_IWOTH and not sticky:
        return f"{path} can be written by every user"
    if info.st_mode & stat.S_IWGRP and not sticky and not _group_writers_trusted(info.st_gid):
        import grp

        try:
            group = grp.getgrgid(info.st_gid).gr_name
        except KeyError:
            group = f"gid {info.st_gid}"
        return f"{path} can be written by group {group}"
    return None


def untrusted_reason(path: Path) -> str | None:
    """Why ``path`` may have been written by someone other than the administrator, or None.

    Every component of the path as written (``lstat``: a link is judged by who may
    replace it) and of the path it resolves to (who may change what it names).
    """
    if os.name == "nt":  # modes do not say who may write there
        return None
    chains = [Path(os.path.abspath(path)), Path(os.path.realpath(path))]
    for chain in dict.fromkeys(chains):
        for part in [chain, *chain.parents]:
            try:
                info = os.lstat(part)
            except FileNotFoundError:
                continue  # what does not exist was written by no one
            except OSError as exc:
                return f"{part} cannot be checked ({exc.strerror or exc})"
            reason = _check_one(part, info)
            if reason is not None:
                return reason
    return None


def refusal(path: Path, reason: str) -> str:
    """The one line a refused administrator's file gets, with what to do."""
    trusted = ", ".join(sorted(_name(u) for u in trusted_uids()))
    return (
        f"{path} is refused as an administrator's file: {reason}, and only "
        f"{trusted} may write the administrator's files; nothing can be installed until "
        "the administrator fixes its owner and mode (chown root, chmod go-w)"
    )


def running_as_trusted() -> bool:
    """Is this process one of the accounts whose files count as the administrator's?"""
    return os.name == "nt" or os.geteuid() in trusted_uids()
