"""Kernelspecs for environments that have ipykernel.

Each such env gets ``<kernels_dir>/userpkg-<env>/kernel.json`` (by default in
the user's Jupyter data dir), display name ``Python 3 (<env>)``, with metadata
naming the env.  Jupyter servers list kernelspecs from disk on every request,
so a new one shows up in a running server's launcher without a restart.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir

from .files import atomic_write

PREFIX = "userpkg-"


def default_kernels_dir() -> Path:
    return Path(jupyter_data_dir()) / "kernels"


def kernel_name(env: str) -> str:
    """Kernelspec names are case-insensitive: keep them lower case."""
    return PREFIX + env.lower()


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


def write(kernels_dir: Path, env: str, spec: dict[str, Any]) -> bool:
    """Install or repair the env's kernelspec; True if anything was written."""
    target = kernels_dir / kernel_name(env)
    text = json.dumps(spec, indent=2) + "\n"
    path = target / "kernel.json"
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except OSError:
        pass
    target.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text)
    return True


def remove(kernels_dir: Path, env: str, envs_dir: Path) -> bool:
    """Remove the env's kernelspec, if it is the one ``envs_dir`` made for it."""
    target = kernels_dir / kernel_name(env)
    if ours(kernels_dir, envs_dir).get(target.name) != env:
        return False  # none, or another envs dir's (or someone else's) kernelspec
    trash = target.with_name(f".{target.name}.{os.urandom(4).hex()}")
    os.rename(target, trash)  # gone for the server at once
    shutil.rmtree(trash, ignore_errors=True)
    return True


def ours(kernels_dir: Path, envs_dir: Path) -> dict[str, str]:
    """kernelspec dir name -> env name, for the kernelspecs of this envs dir."""
    out: dict[str, str] = {}
    if not kernels_dir.is_dir():
        return out
    for entry in kernels_dir.iterdir():
        if not entry.name.startswith(PREFIX):
            continue
        try:
            meta = json.loads((entry / "kernel.json").read_text(encoding="utf-8"))["metadata"]
            if meta["userpkg"]["envs_dir"] == str(envs_dir):
                out[entry.name] = str(meta["userpkg"]["env"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out
