"""Notebooks that carry their env, and scripts that name theirs (PEP 723).

A notebook's ``metadata.userpkg`` records the env its kernel ran in: what was
asked for (``requests``), the kind, Python and channels, and the env's exported
lock (``lock``: its format, text and sha256; the text is left out above a size
an administrator sets).  ``create NAME --from NB.ipynb`` restores it: the lock
when the policy allows every record, else the requests (said in the plan).

A notebook is a file from anyone: every field is checked as an imported lock
or an environment.yml is (:mod:`.exports`), and a field of the wrong shape is
refused by name, before anything is solved.  juv's notebooks (a PEP 723 block in
the first code cell) and marimo's scripts (a PEP 723 header) are read for their
requests; their uv.lock is not a lock this project installs, and the plan says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InvalidRequest, InvalidSpec, PolicyDenied
from .exports import Imported, read_import, read_lock_text
from .manifest import Manifest
from .pypi.uv import artifact_urls
from .specs import parse_pypi_specs

if TYPE_CHECKING:
    from .kinds.base import CreateRequest
    from .records import ConfirmFn, Plan, Result

#: The key of ``metadata`` this project writes.
METADATA_KEY = "userpkg"
#: The format of ``lock.text``: an exported lock (``export --format lock``).
LOCK_FORMAT = "jupyter-userpkg-lock"
#: Above this, a notebook is not read (a notebook of outputs is still far below).
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
#: The lock's text is written into a notebook below this size, unless configured.
DEFAULT_MAX_LOCK_BYTES = 256 * 1024
_PYTHON_RE = re.compile(r"3\.\d{1,2}(\.\d{1,3})?")
_SCRIPT_RE = re.compile(r"(?m)^# /// script\s*$\n((?:^#(?:| .*)$\n)+?)^# ///\s*$")


def env_metadata(
    *,
    env: str,
    kind: str,
    python: str,
    channels: list[str],
    pypi: list[str],
    conda: list[str],
    lock_text: str,
    max_lock_bytes: int = DEFAULT_MAX_LOCK_BYTES,
) -> dict[str, Any]:
    """``metadata.userpkg`` for an env; the lock's text only when it fits ``max_lock_bytes``."""
    data = lock_text.encode("utf-8")
    lock: dict[str, Any] = {"format": LOCK_FORMAT, "sha256": hashlib.sha256(data).hexdigest()}
    if len(data) <= max_lock_bytes:
        lock["text"] = lock_text
    return {
        "env": env,
        "kind": kind,
        "python": python,
        "channels": list(channels),
        "requests": {"pypi": list(pypi), "conda": list(conda)},
        "lock": lock,
    }


def read_from(path: Path) -> Imported:
    """What a file given to ``create --from`` asks for: a notebook, a script with a
    PEP 723 block, or any file :func:`.exports.read_import` reads."""
    suffix = path.suffix.lower()
    if suffix not in (".ipynb", ".py"):
        return read_import(path)
    read = read_notebook if suffix == ".ipynb" else read_script
    return replace(read(path), source=path.name)


def read_notebook(path: Path) -> Imported:
    """What a notebook asks for: its ``metadata.userpkg``, else a juv PEP 723 cell."""
    notebook = _load(path)
    metadata = notebook.get("metadata")
    if not isinstance(metadata, dict):
        raise InvalidSpec(f"{path.name}: the notebook's 'metadata' is not an object")
    if METADATA_KEY in metadata:
        return _read_userpkg(metadata[METADATA_KEY], path.name)
    script = _first_script_block(notebook)
    if script is None:
        raise InvalidSpec(
            f"{path.name} names no environment: it has no 'userpkg' metadata and no "
            "'# /// script' block; make it with `jupyter userpkg export --format notebook`"
        )
    imported = _read_script_block(script, path.name)
    if "uv.lock" in metadata:
        note = f"{path.name}: its uv.lock is not used; its requests are solved under your policy"
        imported = replace(imported, note=note)
    return imported


def read_script(path: Path) -> Imported:
    """A script's PEP 723 header (marimo's, uv's ``--script``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"cannot read {str(path)!r}: {exc}") from None
    match = _SCRIPT_RE.search(text)
    if match is None:
        raise InvalidSpec(f"{path.name} has no '# /// script' block naming its dependencies")
    return _read_script_block(match.group(1), path.name)


def pep723_block(pypi: list[str], python: str | None) -> str:
    """A PEP 723 block of an env's PyPI requests, for juv, marimo and ``uv run --script``."""
    lines = ["# /// script"]
    if python:
        lines.append(f'# requires-python = ">={python}"')
    lines.append("# dependencies = [")
    lines += [f"#     {json.dumps(spec)}," for spec in pypi]
    lines += ["# ]", "# ///"]
    return "\n".join(lines) + "\n"


def write_metadata(path: Path, meta: dict[str, Any]) -> None:
    """Put ``meta`` in a notebook's ``metadata.userpkg``, keeping the rest as it was.

    Written as nbformat writes a notebook (indent 1, sorted keys), to a file
    beside it that then replaces it: a reader never sees half a notebook.
    """
    notebook = _load(path)
    if not isinstance(notebook.get("metadata"), dict):
        raise InvalidSpec(f"{path.name}: the notebook's 'metadata' is not an object")
    notebook["metadata"][METADATA_KEY] = meta
    text = json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as exc:
        raise InvalidRequest(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise InvalidSpec(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB")
    try:
        notebook = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InvalidSpec(f"{path.name} is not a notebook (not JSON)") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells", []), list):
        raise InvalidSpec(f"{path.name} is not a notebook")
    return notebook


def _strings(value: Any, field: str, source: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidSpec(f"{source}: metadata.userpkg.{field} must be a list of strings")
    return list(value)


def _read_userpkg(meta: Any, source: str) -> Imported:
    """The requests (and the lock, when it checks out) of ``metadata.userpkg``, field by field."""
    from . import kinds

    if not isinstance(meta, dict):
        raise InvalidSpec(f"{source}: metadata.userpkg is not an object")
    kind, python = meta.get("kind"), meta.get("python")
    if kind is not None and kind not in kinds.KINDS:
        raise InvalidSpec(f"{source}: metadata.userpkg.kind {kind!r} is not a kind of env")
    if python is not None and not (isinstance(python, str) and _PYTHON_RE.fullmatch(python)):
        raise InvalidSpec(f"{source}: metadata.userpkg.python must be a version like '3.11'")
    requests = meta.get("requests") or {}
    if not isinstance(requests, dict):
        raise InvalidSpec(f"{source}: metadata.userpkg.requests is not an object")
    pypi = _strings(requests.get("pypi"), "requests.pypi", source)
    conda = _strings(requests.get("conda"), "requests.conda", source)
    channels = _strings(meta.get("channels"), "channels", source)
    for spec in conda:
        if spec.strip().startswith("-") or not spec.strip():
            raise InvalidSpec(f"{source}: {spec!r} in requests.conda is not a package spec")
    for channel in channels:
        if not channel or channel.startswith("-") or any(c.isspace() for c in channel):
            raise InvalidSpec(f"{source}: {channel!r} in channels is not a channel")
    try:
        reqs = parse_pypi_specs(pypi)
    except InvalidSpec as exc:
        raise InvalidSpec(f"{source}: requests.pypi: {exc.message}") from None
    wanted = Imported(
        tuple(reqs),
        python=".".join(python.split(".")[:2]) if python else None,
        kind=kind,
        conda_specs=tuple(conda),
        channels=tuple(channels),
        needs_channels=bool(conda),
        source=source,
    )
    lock = _lock_text(meta.get("lock"), source)
    if lock is None:
        note = f"{source}: it carries no lock text; its requests are solved under your policy"
        return replace(wanted, note=note)
    locked = replace(read_lock_text(lock, source), source=source)
    if locked.kind is not None and kind is not None and locked.kind != kind:
        raise InvalidSpec(f"{source}: metadata.userpkg.kind and its lock name different kinds")
    note = f"{source}: its lock is installed exactly (the policy allows every record)"
    fallback = replace(wanted, note=f"{source}: installed from its requests: ")
    return replace(locked, note=note, fallback=fallback)


def _lock_text(lock: Any, source: str) -> str | None:
    """The lock's text when given, of our format, and matching its sha256."""
    if lock is None:
        return None
    if not isinstance(lock, dict):
        raise InvalidSpec(f"{source}: metadata.userpkg.lock is not an object")
    if lock.get("format") != LOCK_FORMAT:
        raise InvalidSpec(f"{source}: metadata.userpkg.lock.format must be {LOCK_FORMAT!r}")
    text, digest = lock.get("text"), lock.get("sha256")
    if text is None:
        return None
    if not isinstance(text, str) or not isinstance(digest, str):
        raise InvalidSpec(f"{source}: metadata.userpkg.lock needs 'text' and 'sha256' strings")
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != digest.lower():
        raise InvalidSpec(f"{source}: metadata.userpkg.lock.text does not match its sha256")
    return text


def _first_script_block(notebook: dict[str, Any]) -> str | None:
    """The PEP 723 block of the first code cell, as juv writes it."""
    for cell in notebook.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        if not isinstance(text, str):
            return None
        match = _SCRIPT_RE.search(text if text.endswith("\n") else text + "\n")
        return match.group(1) if match else None
    return None


def _read_script_block(block: str, source: str) -> Imported:
    """A PEP 723 block's ``dependencies`` and ``requires-python``, validated as requests."""
    body = "\n".join(line[2:] if line.startswith("# ") else "" for line in block.splitlines())
    try:
        data = tomllib.loads(body)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidSpec(f"{source}: its '# /// script' block is not valid TOML: {exc}") from None
    deps = data.get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise InvalidSpec(f"{source}: 'dependencies' must be a list of package specs")
    try:
        reqs = parse_pypi_specs(deps)
    except InvalidSpec as exc:
        raise InvalidSpec(f"{source}: {exc.message}") from None
    python = None
    requires = data.get("requires-python")
    if isinstance(requires, str):
        # The lowest Python it allows (">=3.11", "==3.12.*"): the version an env gets.
        found = re.match(r"\s*(?:>=|==|~=)\s*(3\.\d{1,2})", requires)
        python = found.group(1) if found else None
    return Imported(tuple(reqs), python=python, source=source)


def create_with_fallback(
    create: Callable[[CreateRequest, ConfirmFn | None], Result],
    request: CreateRequest,
    confirm: ConfirmFn | None,
    served: Callable[[str], bool],
) -> Result:
    """Create from a notebook's lock when the policy allows every record, else from its
    requests; the plan says which, and why (the refusal of the lock).

    A notebook's lock naming files outside the user's package indexes (``served``
    says which URLs are on them) is refused outright: a colleague on this hub
    exports files of the same indexes, so another URL is a notebook from
    elsewhere, or a forged one.
    """
    imported = request.imported
    if imported is None or not imported.note:
        return create(request, confirm)
    if imported.fallback is not None and imported.lock_text:
        foreign = [url for url in artifact_urls(imported.lock_text) if not served(url)]
        if foreign:
            raise InvalidSpec(
                f"{imported.source}: metadata.userpkg.lock names files outside your package "
                f"indexes ({foreign[0]}); ask its author for a notebook exported on this hub, "
                "or create the environment from its packages by name"
            )
    try:
        return _noted(create, request, confirm, imported.note)
    except PolicyDenied as refused:
        if imported.fallback is None:
            raise
        fallback = imported.fallback
        note = fallback.note + refused.message
    return _noted(create, replace(request, imported=fallback), confirm, note)


def _noted(
    create: Callable[[CreateRequest, ConfirmFn | None], Result],
    request: CreateRequest,
    confirm: ConfirmFn | None,
    note: str,
) -> Result:
    """``create``, with ``note`` first among the messages of the plan it shows and returns."""

    def noted(plan: Plan) -> Plan:
        return replace(plan, messages=(note, *plan.messages))

    ask = None if confirm is None else (lambda plan: confirm(noted(plan)))
    result = create(request, ask)
    return replace(result, plan=noted(result.plan))


def export_env(manifest: Manifest, lock_text: str, fmt: str, max_lock_bytes: int) -> str:
    """``export --format notebook`` (``metadata.userpkg`` as JSON) or ``pep723``."""
    pypi, conda = manifest.requirements(), list(manifest.conda.values())
    if fmt == "pep723":
        if conda:
            raise InvalidRequest(
                f"{manifest.name!r} asks for conda packages ({', '.join(conda)}), which a "
                "PEP 723 block cannot name; export it as 'notebook' or 'environment'"
            )
        return pep723_block(pypi, manifest.python and ".".join(manifest.python.split(".")[:2]))
    meta = env_metadata(
        env=manifest.name,
        kind=manifest.kind,
        python=manifest.python,
        channels=list(manifest.channels),
        pypi=pypi,
        conda=conda,
        lock_text=lock_text,
        max_lock_bytes=max_lock_bytes,
    )
    return json.dumps(meta, indent=1) + "\n"
