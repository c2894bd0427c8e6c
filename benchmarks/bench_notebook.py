"""Recreate a 30-package env from a notebook's metadata, against ``uv pip sync`` of the same
lock into a fresh venv, side by side (median of ``--runs``; warm uv cache for both).

The notebook path reads and checks ``metadata.userpkg`` field by field, judges the lock's
records by the policy, creates the env through the pipeline (journal, revision, manifest)
and installs the lock exactly; the baseline is the bare install a user could run by hand:
``uv venv`` then ``uv pip sync`` of the exported pylock.toml.

    python benchmarks/bench_notebook.py [--runs 5] [--packages 30]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uv

from jupyter_userpkg.core.notebooks import write_metadata
from jupyter_userpkg.core.options import UvOptions
from jupyter_userpkg.core.service import UserPkgService
from tests.localindex import LocalIndex, build_wheel

UV = str(uv.find_uv_bin())


def wheels(directory: Path, count: int) -> list[str]:
    """``count`` packages of 20 KB each; the first needs all the others (one request)."""
    directory.mkdir(parents=True, exist_ok=True)
    names = [f"nbpkg{i:02d}" for i in range(count)]
    for name in names[1:]:
        build_wheel(directory, name, "1.0", padding=20_000)
    build_wheel(directory, names[0], "1.0", padding=20_000, requires=names[1:])
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--packages", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="userpkg-bench-nb-"))
    cache = work / "uv-cache"
    names = wheels(work / "wheels", args.packages)
    with LocalIndex(work / "wheels") as index:
        options = UvOptions(default_index=index.url, cache_dir=str(cache))
        svc = UserPkgService(
            work / "envs", base_python=sys.executable, kernels_dir=work / "k", uv_options=options
        )
        svc.create("src", kind="venv", kernel=False, specs=[names[0]])
        nb = work / "analysis.ipynb"
        nb.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        write_metadata(nb, json.loads(svc.export("src", "notebook")))
        lock = work / "pylock.toml"
        lock.write_text(svc.store.read_lock("src", svc.store.current("src")))
        ours, theirs = [], []
        for run in range(args.runs):
            start = time.perf_counter()
            svc.create(f"copy{run}", kernel=False, from_file=str(nb))
            ours.append(time.perf_counter() - start)
            venv = work / f"raw{run}"
            start = time.perf_counter()
            env = {"UV_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
            subprocess.run([UV, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
            subprocess.run(
                [UV, "pip", "sync", "-q", "--python", str(venv / "bin/python"), str(lock)],
                check=True,
                env=env,
            )
            theirs.append(time.perf_counter() - start)
        packages = len([p for p in svc.packages(f"copy{args.runs - 1}") if p.source != "base"])
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"{packages} packages, median of {args.runs} runs, warm uv cache")
    print(f"  create --from the notebook   {a * 1000:8.0f} ms")
    print(f"  uv venv + uv pip sync (lock) {b * 1000:8.0f} ms")
    print(f"  ratio                        {a / b:8.2f}x  (target <= 1.2x)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
