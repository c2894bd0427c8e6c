"""Which of the project's modules a conda install of one package passes through.

A conda env (the test channel's python shim and ``libfoo 1.*``) is made through
the service, a dry run warms everything up, then ``change(install=["bar 1.*"])``
runs under a profile hook (``sys.setprofile`` in every thread) that notes each
call into a ``jupyter_userpkg`` module:

- the project's modules that ran, and the modules the install imported;
- the cross-module call edges (caller module -> called module);
- the same by concern: the conda engine, the PyPI engine, the policy, the kinds
  and the env machinery (pipeline, store, journal, kernels...), with the edges
  between them (``basics``: errors, events, options, proc, cancel, names and
  records, which every layer may use) and the walk (each change of concern along the calls) and how
  many of its steps return to a concern it had left.

``--tree PATH`` measures another checkout (an older revision) the same way, in
a process of its own, so two trees are counted side by side:

    python benchmarks/bench_modules.py [--tree ../old-checkout]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve().parents[1]
PROJECT = "jupyter_userpkg"
#: Module name prefixes (after ``jupyter_userpkg.core.``) of each concern, old and new names.
CONCERNS = {
    "conda engine": ("conda.", "condabackend", "condainstall", "condameta", "condaspecs"),
    "PyPI engine": ("pypi.", "uvbackend", "pypiindex", "pypipages"),
    "policy": ("policy", "admintrust", "pypipolicy", "licences"),
    "kinds": ("kinds",),
    "basics": ("errors", "events", "options", "proc", "cancel", "names", "records"),
}


def concern(module: str) -> str:
    short = module.removeprefix(f"{PROJECT}.core.")
    for name, prefixes in CONCERNS.items():
        if short.startswith(prefixes):
            return name
    return "env machinery"


def trace_install() -> dict[str, Any]:
    """In this process (its ``jupyter_userpkg`` as ``sys.path`` finds it)."""
    from jupyter_userpkg.core.options import CondaOptions
    from jupyter_userpkg.core.service import UserPkgService
    from tests.conda_channel import build_test_channel

    tmp = Path(tempfile.mkdtemp(prefix="bench-modules-"))
    channel = build_test_channel(tmp)
    options = CondaOptions(
        default_channels=(), pkgs_dir=str(tmp / "pkgs"), repodata_cache_dir=str(tmp / "rd")
    )
    svc = UserPkgService(tmp / "envs", conda_options=options, kernels_dir=tmp / "kernels")
    svc.create(
        "c", kind="conda", channels=[channel.url], specs=["python", "libfoo 1.*"], kernel=False
    )
    svc.change("c", install=["baz"], dry_run=True)  # warm: imports, gateway
    before = set(sys.modules)
    ran: set[str] = set()
    edges: set[tuple[str, str]] = set()
    walk: list[str] = []

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(PROJECT):
            return
        ran.add(module)
        back = frame.f_back
        caller = back.f_globals.get("__name__", "") if back is not None else ""
        if caller.startswith(PROJECT) and caller != module:
            edges.add((caller, module))
        if concern(module) != (walk[-1] if walk else None):
            walk.append(concern(module))

    sys.setprofile(hook)
    threading.setprofile(hook)
    try:
        svc.change("c", install=["bar 1.*"])
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    seen: set[str] = set()
    returns = 0
    for step in walk:
        returns += step in seen
        seen.add(step)
    imported = set(sys.modules) - before
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "modules run": len(ran),
        "project modules imported by the install": sum(m.startswith(PROJECT) for m in imported),
        "cross-module call edges": len(edges),
        "edges between concerns": sorted(
            {f"{concern(a)} -> {concern(b)}" for a, b in edges if concern(a) != concern(b)}
        ),
        "walk by concern: steps": len(walk),
        "walk by concern: returns to a concern left": returns,
        "ran": sorted(ran),
    }


def measure(tree: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    argv = [sys.executable, str(Path(__file__).resolve()), "--inside"]
    proc = subprocess.run(argv, env=env, cwd=tree, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, help="another checkout to count too")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        sys.path.insert(0, os.getcwd())
        print(json.dumps(trace_install()), flush=True)
        os._exit(0)  # rattler may crash at interpreter exit (TOOLCHAIN.md)
    trees = {"this tree": HERE, **({str(args.tree): args.tree.resolve()} if args.tree else {})}
    results = {label: measure(tree) for label, tree in trees.items()}
    keys = [k for k in next(iter(results.values())) if k not in ("ran", "edges between concerns")]
    print(f"{'a conda install of one package':<44}" + "".join(f"{t[-20:]:>22}" for t in trees))
    for key in keys:
        print(f"{key:<44}" + "".join(f"{results[t][key]:>22}" for t in trees))
    for label, result in results.items():
        print(f"\n{label}: edges between concerns")
        for edge in result["edges between concerns"]:
            print(f"  {edge}")
        print(
            f"{label}: modules run\n  "
            + " ".join(m.removeprefix(f"{PROJECT}.") for m in result["ran"])
        )


if __name__ == "__main__":
    main()
