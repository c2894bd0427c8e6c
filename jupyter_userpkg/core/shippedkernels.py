"""Kernelspecs an env's packages ship (``<prefix>/share/jupyter/kernels/<name>/``).

An R, Julia, C++ or bash kernel installed into an env brings its own
``kernel.json``; Jupyter would not find it there, since it reads only the data
dirs of its own paths.  Each one is exposed beside the env's Python kernel as
``<its display_name> (<env>)``, run with the env activated: the env's ``bin``
first on ``PATH``, ``CONDA_PREFIX``, and the variables the env records for
activation (``conda-meta/state``'s ``env_vars``, ``etc/conda/env_vars.d/*.json``).
Shell scripts in ``etc/conda/activate.d`` are not run: a kernel is started
without a shell.

A shipped file is untrusted input (any package of any channel may ship one):
it is read with bounds, and a spec that could run something outside the env
from a relative path, or whose argv is not a list of strings naming the
connection file, is left out (``Shipped.problem`` says why, for ``doctor``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KERNELS = Path("share", "jupyter", "kernels")
#: ipykernel's own spec: the env's Python kernel is made by this project instead.
PYTHON_SPECS = frozenset({"python3", "python2", "python"})
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
MAX_SPEC_BYTES = 64 * 1024
MAX_ARGS = 64
MAX_ARG = 4096
MAX_DISPLAY = 64
MAX_LANGUAGE = 32
MAX_VALUE = 8192
#: Resource files copied beside our spec (the launcher's icons), and their size limit.
LOGOS = ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg")
MAX_LOGO = 256 * 1024
#: Variables the activation sets itself; an env's recorded variables do not replace them.
OWN_VARS = frozenset({"PATH", "CONDA_PREFIX", "CONDA_DEFAULT_ENV"})


@dataclass(frozen=True)
class Shipped:
    """One kernelspec found in an env: usable (``spec``), or left out (``problem``)."""

    name: str
    directory: Path
    spec: dict[str, Any] = field(default_factory=dict)
    problem: str = ""


def find(prefix: Path) -> list[Shipped]:
    """Every kernelspec the env's packages ship, validated, in name order."""
    root = prefix / KERNELS
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return []
    out = []
    for entry in entries[:200]:
        if entry.lower() in PYTHON_SPECS or entry.startswith("."):
            continue
        directory = root / entry
        if not directory.is_dir() or directory.is_symlink():
            continue
        if not NAME.fullmatch(entry.lower()):
            out.append(Shipped(entry, directory, problem="its directory name is not a kernel name"))
            continue
        try:
            spec = validate(read_json(directory / "kernel.json"), prefix)
        except ValueError as exc:
            out.append(Shipped(entry.lower(), directory, problem=str(exc)))
            continue
        if spec is not None:
            out.append(Shipped(entry.lower(), directory, spec))
    return out


def read_json(path: Path) -> Any:
    """A small JSON file, not followed through a symlink."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ValueError(f"kernel.json cannot be read ({exc.strerror})") from None
    with open(fd, "rb") as fh:
        data = fh.read(MAX_SPEC_BYTES + 1)
    if len(data) > MAX_SPEC_BYTES:
        raise ValueError("kernel.json is larger than 64 KiB")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("kernel.json is not JSON") from None


def validate(data: Any, prefix: Path) -> dict[str, Any] | None:
    """The parts of a shipped spec we keep, checked; None for ipykernel's own spec."""
    if not isinstance(data, dict):
        raise ValueError("kernel.json is not an object")
    argv = data.get("argv")
    if (
        not isinstance(argv, list)
        or not argv
        or len(argv) > MAX_ARGS
        or not all(isinstance(a, str) and 0 < len(a) <= MAX_ARG for a in argv)
    ):
        raise ValueError("its argv is not a list of strings")
    if not any("{connection_file}" in a for a in argv):
        raise ValueError("its argv does not name {connection_file}")
    if any("ipykernel" in a for a in argv[:4]) and data.get("language") == "python":
        return None
    argv = [executable(argv[0], prefix), *argv[1:]]
    display = clean(data.get("display_name"), MAX_DISPLAY)
    if not display:
        raise ValueError("it has no display_name")
    spec: dict[str, Any] = {
        "argv": argv,
        "display_name": display,
        "language": clean(data.get("language"), MAX_LANGUAGE) or "unknown",
        "env": variables(data.get("env"), "its env"),
    }
    if data.get("interrupt_mode") in ("signal", "message"):
        spec["interrupt_mode"] = data["interrupt_mode"]
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and metadata.get("debugger") is True:
        spec["metadata"] = {"debugger": True}
    return spec


def executable(first: str, prefix: Path) -> str:
    """argv[0]: a path inside the env; a bare name is the env's ``bin/<name>`` where
    there is one (jupyter_client would run its own interpreter for a bare ``python``),
    else left to the kernel's PATH, the env's ``bin`` first."""
    if "/" not in first and "\\" not in first:
        own = prefix / "bin" / first
        return str(own) if os.path.isfile(own) else first
    # Lexically (``..`` resolved), and its directory for real: the file itself may be a
    # link out of the env (a conda Python's bin/python3 -> python3.11, a venv's to its base).
    path = os.path.normpath(first if os.path.isabs(first) else prefix / first)
    root = os.path.normpath(prefix)
    real_dir, real_root = os.path.realpath(os.path.dirname(path)), os.path.realpath(prefix)
    if os.path.commonpath([path, root]) != root or (
        os.path.commonpath([real_dir, real_root]) != real_root
    ):
        raise ValueError(f"its executable {first!r} is outside the environment")
    return path


def clean(value: Any, limit: int) -> str:
    """A one-line string of at most ``limit`` characters ('' if it is no string)."""
    if not isinstance(value, str):
        return ""
    text = " ".join("".join(c if c.isprintable() else " " for c in value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def variables(value: Any, what: str) -> dict[str, str]:
    """Environment variables from untrusted JSON: names and values checked."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 100:
        raise ValueError(f"{what} is not an object of at most 100 variables")
    out = {}
    for key, val in value.items():
        if not (isinstance(key, str) and VAR.fullmatch(key)):
            raise ValueError(f"{what} names a variable {str(key)[:40]!r}")
        if not isinstance(val, str) or len(val) > MAX_VALUE or "\0" in val:
            raise ValueError(f"{what} gives {key} a value that is not a short string")
        out[key] = val
    return out


def activation(prefix: Path, env: str) -> dict[str, str]:
    """The variables of the env activated: its ``bin`` first on PATH (the server's PATH
    after it, filled in by jupyter_client when the kernel starts), and its recorded ones."""
    out: dict[str, str] = {}
    for source in recorded(prefix):
        out.update({k: v for k, v in source.items() if k not in OWN_VARS})
    out["PATH"] = f"{prefix / 'bin'}{os.pathsep}${{PATH}}"
    if (prefix / "conda-meta").is_dir():
        out["CONDA_PREFIX"] = str(prefix)
        out["CONDA_DEFAULT_ENV"] = env
    return out


def recorded(prefix: Path) -> list[dict[str, str]]:
    """Variables the env records: packages' ``env_vars.d`` files, then the user's own
    (``conda env config vars``, in ``conda-meta/state``), later ones winning. A file that
    is not a plain object of strings is skipped."""
    sources: list[tuple[Path, str | None]] = []
    vars_d = prefix / "etc" / "conda" / "env_vars.d"
    if vars_d.is_dir():
        sources += [(p, None) for p in sorted(vars_d.glob("*.json"))[:50]]
    sources.append((prefix / "conda-meta" / "state", "env_vars"))
    out = []
    for path, key in sources:
        if not path.is_file():
            continue
        try:
            data = read_json(path)
            out.append(variables(data.get(key) if key else data, path.name))
        except (ValueError, AttributeError):
            continue
    return out


def logos(directory: Path) -> dict[str, bytes]:
    """The launcher's icons the spec ships (regular files, small)."""
    out = {}
    for name in LOGOS:
        path = directory / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_LOGO:
            out[name] = path.read_bytes()
    return out
