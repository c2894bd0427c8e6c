"""JSON request bodies (the REST API's), checked and turned into commands.

A REST body says the same as a command line, so it becomes the same command
(:mod:`.verbs`) that the grammar builds for the CLI and the cell, and that
:func:`.dispatch.dispatch` runs.  Every field is checked here, before anything reaches
the core: an unknown field or a value of the wrong type is refused with a
message naming the field, so a client's typo is never silently ignored.
Values are then validated by the core as for any front end (names, specs,
channels).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.errors import InvalidRequest, UserPkgError
from .verbs import (
    Change,
    Command,
    Create,
    Delete,
    Env,
    Envs,
    Export,
    History,
    Info,
    Install,
    List,
    PackageChange,
    Policy,
    Provides,
    Remove,
    Rollback,
    Search,
    Update,
)

#: What each body may hold: field -> (type, required).  ``list`` means a list of strings.
_FIELDS: dict[str, dict[str, tuple[type, bool]]] = {
    "create": {
        "name": (str, True),
        "kind": (str, False),
        "python": (str, False),
        "channels": (list, False),
        "specs": (list, False),
        "pypi_specs": (list, False),
        "kernel": (bool, False),
        "file": (dict, False),
        "dry_run": (bool, False),
        "over": (str, False),
    },
    "change": {
        "install": (list, False),
        "remove": (list, False),
        "update": (list, False),
        "update_all": (bool, False),
        "pypi": (bool, False),
    },
    "rollback": {"revision": (int, True), "dry_run": (bool, False)},
    "file": {"name": (str, True), "content": (str, True)},
}

_TYPE_WORDS = {
    str: "a string",
    list: "a list of strings",
    bool: "true or false",
    int: "an integer",
    dict: "an object",
}

#: Files a new env can be made from, by the uploaded file's name (as ``create --from``).
_IMPORT_SUFFIXES = (".txt", ".in", ".yml", ".yaml", ".toml", ".lock", ".ipynb", ".py")
_MAX_FILE = 2_000_000
_PYTHON = re.compile(r"[0-9]+(\.[0-9]+){0,2}")


def checked(body: Any, what: str) -> dict[str, Any]:
    """``body`` if it is an object whose fields are those of ``what``, of the right types."""
    if not isinstance(body, Mapping):
        raise InvalidRequest("the request body must be a JSON object")
    fields = _FIELDS[what]
    for key in body:
        if key not in fields:
            allowed = ", ".join(sorted(fields))
            raise InvalidRequest(f"unknown field {key!r}; this request takes: {allowed}")
    for key, (kind, required) in fields.items():
        if key not in body or body[key] is None:
            if required:
                raise InvalidRequest(f"field {key!r} is required")
            continue
        value = body[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if ok and kind is list:
            ok = all(isinstance(item, str) for item in value)
        if not ok:
            raise InvalidRequest(f"field {key!r} must be {_TYPE_WORDS[kind]}")
    return {k: v for k, v in body.items() if v is not None}


def parse_json(raw: bytes) -> Any:
    """A request body as JSON; an empty body is an empty object."""
    import json

    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except RecursionError:
        raise InvalidRequest("the request body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"the request body is not valid JSON: {exc}") from None


def create_command(body: Any, *, dry_run: bool = False) -> Create:
    """``POST envs``: the ``create`` command; an uploaded file goes to a private temp file.

    ``"dry_run": true`` plans it (``create --dry-run``): the panel shows a notebook's
    plan, policy refusals included, before anything is built."""
    data = checked(body, "create")
    upload = checked(data["file"], "file") if "file" in data else None
    python = data.get("python")
    if python is not None and not _PYTHON.fullmatch(python):
        # A command line may name an interpreter by path; a request may not.
        raise InvalidRequest(
            f"field 'python' must be a Python version such as 3.12, not {python!r}"
        )
    return Create(
        name=data["name"],
        kind=data.get("kind"),
        python=python,
        channels=tuple(data.get("channels", ())),
        specs=tuple(data.get("specs", ())),
        pypi_specs=tuple(data.get("pypi_specs", ())),
        kernel=data.get("kernel", True),
        from_file=_write_upload(upload) if upload else None,
        dry_run=dry_run or data.get("dry_run", False),
        over=data.get("over"),
    )


def change_command(env: str, body: Any, *, dry_run: bool) -> PackageChange:
    """``POST envs/{env}/plan`` and ``.../transactions``: one change of several parts.

    A body of one part is the CLI's verb for it (``{"install": [...]}`` is ``install``).
    """
    data = checked(body, "change")
    install, remove, update = (tuple(data.get(k, ())) for k in ("install", "remove", "update"))
    update_all, pypi = data.get("update_all", False), data.get("pypi", False)
    common = {"env": env, "pypi": pypi, "dry_run": dry_run}
    if install and not (remove or update or update_all):
        return Install(specs=install, **common)
    if remove and not (install or update or update_all):
        return Remove(names=remove, **common)
    if (update or update_all) and not (install or remove):
        return Update(names=update, update_all=update_all, **common)
    return Change(install=install, remove=remove, update=update, update_all=update_all, **common)


def rollback_command(env: str, body: Any) -> Rollback:
    data = checked(body, "rollback")
    return Rollback(env=env, revision=data["revision"], dry_run=data.get("dry_run", False))


def envs_command() -> Envs:
    return Envs()


def env_command(env: str) -> Env:
    """``GET envs/{env}``: one env's summary."""
    return Env(env=env)


def delete_command(env: str) -> Delete:
    return Delete(name=env)


def list_command(env: str) -> List:
    """``GET envs/{env}/packages``: every package, the base's too (``list --base``)."""
    return List(env=env, base=True)


def history_command(env: str) -> History:
    return History(env=env)


def export_command(env: str, fmt: str) -> Export:
    """``GET envs/{env}/export?format=``: the ``export`` command, to the response."""
    return Export(env=env, format=fmt)


def search_command(query: str | None, source: str | None, limit: str | None) -> Search:
    """``GET search?q=&source=&limit=``: the ``search`` command."""
    if not query or not query.strip():
        raise InvalidRequest("parameter 'q' is required: the name (or part of one) to look for")
    try:
        count = 50 if limit in (None, "") else int(limit)
    except ValueError:
        raise InvalidRequest("parameter 'limit' must be an integer") from None
    if not 1 <= count <= 500:
        raise InvalidRequest("parameter 'limit' must be between 1 and 500")
    return Search(query=query.strip(), source=_source(source), limit=count)


def policy_command(check: str | None) -> Policy:
    """``GET policy?check=``: the ``policy`` command (``check``: 1/true or 0/false/empty)."""
    text = (check or "").strip().lower()
    if text not in ("", "0", "1", "false", "true"):
        raise InvalidRequest("parameter 'check' must be true or false")
    return Policy(check=text in ("1", "true"))


def info_command(name: str, source: str | None) -> Info:
    """``GET packages/{name}?source=``: the ``info`` command."""
    return Info(package=name, source=_source(source))


def provides_command(name: str | None, env: str | None) -> Provides:
    """``GET provides?name=&env=``: the ``provides`` command."""
    if not name or not name.strip():
        raise InvalidRequest("parameter 'name' is required: the module `import` could not find")
    return Provides(module=name.strip(), env=env or None)


def _source(source: str | None) -> str | None:
    if source in (None, ""):
        return None
    if source not in ("pypi", "conda"):
        raise InvalidRequest(f"parameter 'source' must be 'pypi' or 'conda', not {source!r}")
    return source


def _write_upload(upload: Mapping[str, str]) -> str:
    """An uploaded requirements / environment / lock file, as a file ``create --from`` reads.

    Only the file's base name is kept (its suffix says what it is); it goes in
    a fresh private directory, removed by :func:`discard_upload`.
    """
    name = os.path.basename(upload["name"].replace("\\", "/"))
    if not name or not name.endswith(_IMPORT_SUFFIXES):
        raise InvalidRequest(
            f"field 'file': cannot create an environment from {upload['name']!r}; "
            "upload a requirements.txt, an environment.yml, an exported lock, a notebook "
            "or a script with a '# /// script' block"
        )
    content = upload["content"]
    if len(content) > _MAX_FILE:
        raise InvalidRequest("field 'file': the file is larger than 2 MB")
    if len(name) > 200 or "\0" in name:
        raise InvalidRequest("field 'file': the file's name is not one a file can have")
    directory = Path(tempfile.mkdtemp(prefix="userpkg-upload-"))
    path = directory / name
    try:
        path.write_text(content, encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        import shutil

        shutil.rmtree(directory, ignore_errors=True)
        raise InvalidRequest(f"field 'file': cannot be read as a text file ({exc})") from None
    return str(path)


def scrub_upload(command: Command, exc: UserPkgError) -> UserPkgError:
    """``exc`` naming an uploaded file by its own name, not by the server's temp path."""
    path = command.from_file if isinstance(command, Create) else None
    if path and Path(path).parent.name.startswith("userpkg-upload-"):
        for where in (str(Path(path).parent) + os.sep, str(Path(path).parent)):
            exc.message = exc.message.replace(where, "")
            exc.details = exc.details.replace(where, "") if exc.details else exc.details
    return exc


def discard_upload(command: Command) -> None:
    """Remove what :func:`create_command` wrote for an uploaded file."""
    import shutil

    path = command.from_file if isinstance(command, Create) else None
    if path and Path(path).parent.name.startswith("userpkg-upload-"):
        shutil.rmtree(Path(path).parent, ignore_errors=True)
