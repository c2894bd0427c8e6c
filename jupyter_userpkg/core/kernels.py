"""Kernelspecs for environments: the Python one and those the env's packages ship.

An env with ipykernel gets ``<kernels_dir>/userpkg-<env>/kernel.json`` (by
default in the user's Jupyter data dir), display name ``Python 3 (<env>)``; each
kernelspec its packages ship (:mod:`.shippedkernels`) gets
``userpkg-<env>--<name>/``, display name ``<its display_name> (<env>)``. Every
one carries metadata naming the env, so that only this envs dir's are touched.

Every write and removal also rewrites one small index of this kernels dir's
kernelspecs (:mod:`.kernelindex`): a server reads that file, stat'ed once a
request, instead of each kernelspec (``server/kernelspecs.py``); tools that read
the kernels dir itself (``jupyter kernelspec list``) see the same specs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir

from . import kernelindex
from .files import atomic_write

PREFIX = kernelindex.PREFIX
#: Between the env and the name of a kernelspec it ships.
SEP = "--"


def default_kernels_dir() -> Path:
    return Path(jupyter_data_dir()) / "kernels"


def kernel_name(env: str, shipped: str | None = None) -> str:
    """Kernelspec names are case-insensitive: keep them lower case."""
    base = PREFIX + env.lower()
    return base if shipped is None else f"{base}{SEP}{shipped.lower()}"


@dataclass(frozen=True)
class KernelFiles:
    """One kernelspec directory to write: its name, kernel.json and resource files."""

    name: str
    spec: dict[str, Any]
    resources: Mapping[str, bytes] = field(default_factory=dict)


def kernelspec(env: str, prefix: Path, envs_dir: Path, extra_env: dict[str, str]) -> dict[str, Any]:
    from .pypi.uv import env_python

    return {
        "argv": [
            str(env_python(prefix)),
            "-Xfrozen_modules=off",
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ],
        "display_name": f"Python 3 ({env})",
        "language": "python",
        "env": {"JUPYTER_USERPKG_ENVS_DIR": str(envs_dir), **extra_env},
        "metadata": {"debugger": True, "userpkg": {"env": env, "envs_dir": str(envs_dir)}},
    }


def shipped_kernels(
    env: str, prefix: Path, envs_dir: Path, extra_env: dict[str, str]
) -> list[KernelFiles]:
    """The env's packages' own kernelspecs, as ours: ``<display_name> (<env>)``, run with
    the env activated. Specs that fail validation are left out (``doctor`` names them)."""
    from . import shippedkernels

    out = []
    activated = shippedkernels.activation(prefix, env)
    for found in shippedkernels.find(prefix):
        if found.problem:
            continue
        spec = dict(found.spec)
        spec["display_name"] = f"{spec['display_name']} ({env})"
        spec["env"] = {
            **spec["env"],
            **activated,
            "JUPYTER_USERPKG_ENVS_DIR": str(envs_dir),
            **extra_env,
        }
        meta = {"env": env, "envs_dir": str(envs_dir), "kernel": found.name}
        spec["metadata"] = {**spec.get("metadata", {}), "userpkg": meta}
        files = shippedkernels.logos(found.directory)
        out.append(KernelFiles(kernel_name(env, found.name), spec, files))
    return out


def magic_support_dir(envs_dir: Path) -> Path:
    """A directory holding only a link to this package, for venv envs' kernels.

    Put on such a kernel's PYTHONPATH, it lets ``%load_ext jupyter_userpkg`` work
    without installing anything into the env; the magic then runs its commands
    in the server's interpreter (see ``jupyter_userpkg.magic.bridge``).
    """
    support = envs_dir / ".kernel-support"
    link = support / "jupyter_userpkg"
    package = Path(__file__).resolve().parent.parent
    if not (link.is_symlink() and link.resolve() == package):
        support.mkdir(parents=True, exist_ok=True)
        tmp = support / f".link-{os.urandom(4).hex()}"
        os.symlink(package, tmp, target_is_directory=True)
        os.replace(tmp, link)
    return support


def sync(kernels_dir: Path, env: str, envs_dir: Path, wanted: Sequence[KernelFiles]) -> bool:
    """Make the env's kernelspecs exactly ``wanted``; True if anything changed."""
    changed = False
    for files in wanted:
        changed = _write(kernels_dir, files) or changed
    names = {files.name for files in wanted}
    for stale in owned(kernels_dir, env, envs_dir) - names:
        _drop(kernels_dir / stale)
        changed = True
    entries = {
        f.name: kernelindex.entry(env, envs_dir, f.spec, sorted(f.resources)) for f in wanted
    }
    if changed or not kernelindex.holds(kernels_dir, entries):
        kernelindex.update(kernels_dir, env, envs_dir, entries)
    return changed


def _write(kernels_dir: Path, files: KernelFiles) -> bool:
    """Install or repair one kernelspec; True if anything was written."""
    target = kernels_dir / files.name
    text = json.dumps(files.spec, indent=2) + "\n"
    path = target / "kernel.json"
    same = False
    with contextlib.suppress(OSError):
        same = path.read_text(encoding="utf-8") == text
    wrote = not same
    if wrote:
        target.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text, mode=0o644)  # paths only; Jupyter's own readers need it
    for name, data in files.resources.items():
        resource = target / name
        try:
            if resource.read_bytes() == data:
                continue
        except OSError:
            pass
        tmp = target / f".{name}.{os.urandom(4).hex()}"
        tmp.write_bytes(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, resource)
        wrote = True
    return wrote


def remove(kernels_dir: Path, env: str, envs_dir: Path) -> bool:
    """Remove the env's kernelspecs, those ``envs_dir`` made for it; True if any went."""
    gone = owned(kernels_dir, env, envs_dir)
    for name in gone:
        _drop(kernels_dir / name)
    if gone or kernelindex.names_of(kernels_dir, env, envs_dir):
        kernelindex.update(kernels_dir, env, envs_dir, {})
    return bool(gone)


def _drop(target: Path) -> None:
    trash = target.with_name(f".{target.name}.{os.urandom(4).hex()}")
    try:
        os.rename(target, trash)  # gone for the server at once
    except FileNotFoundError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def owned(kernels_dir: Path, env: str, envs_dir: Path) -> set[str]:
    """The kernelspec dirs this envs dir made for ``env`` (read from their metadata)."""
    base = kernel_name(env)
    try:
        entries = [e for e in os.listdir(kernels_dir) if e == base or e.startswith(base + SEP)]
    except OSError:
        return set()
    return {e for e in entries if _owner(kernels_dir / e, envs_dir) == env}


def ours(kernels_dir: Path, envs_dir: Path) -> dict[str, str]:
    """kernelspec dir name -> env name, for the kernelspecs of this envs dir."""
    out: dict[str, str] = {}
    if not kernels_dir.is_dir():
        return out
    for entry in kernels_dir.iterdir():
        if entry.name.startswith(PREFIX):
            env = _owner(entry, envs_dir)
            if env is not None:
                out[entry.name] = env
    return out


def _owner(directory: Path, envs_dir: Path) -> str | None:
    try:
        meta = json.loads((directory / "kernel.json").read_text(encoding="utf-8"))["metadata"]
        if meta["userpkg"]["envs_dir"] == str(envs_dir):
            return str(meta["userpkg"]["env"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None
