"""Install scipy into an existing env: jupyter-userpkg (core API and CLI) against
raw ``uv pip install`` and ``pip install`` into equivalent venvs, side by side.

Prints the median of ``--runs`` runs of each, and the ratios the project holds
itself to (see README).  Warm cache: the package caches already hold scipy.
Cold cache: a fresh, empty cache for every run.  Also the no-op install (all
requested packages already there) and the cost of the transaction journal.

    python benchmarks/bench_install.py [--runs 5] [--package scipy]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import uv

from jupyter_userpkg.core.options import UvOptions
from jupyter_userpkg.core.service import UserPkgService

UV = str(uv.find_uv_bin())
QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}


def sh(*args: str, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(list(args), env=env, text=True, **QUIET)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(args)}\n{proc.stderr}")


def timed(setup: Callable[[], None], action: Callable[[], None], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        setup()
        start = time.perf_counter()
        action()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--package", default="scipy")
    parser.add_argument("--skip-pip", action="store_true", help="leave out the (slow) pip runs")
    args = parser.parse_args()
    pkg, runs = args.package, args.runs
    work = Path(tempfile.mkdtemp(prefix="userpkg-bench-"))
    warm_cache = work / "uv-cache"
    pip_cache = work / "pip-cache"
    base_env = {**os.environ, "VIRTUAL_ENV": "", "UV_CACHE_DIR": str(warm_cache)}
    pip_env = {k: v for k, v in base_env.items() if not k.startswith("PIP_")}
    pip_env["PIP_CACHE_DIR"] = str(pip_cache)
    envs_dir = work / "envs"
    results: dict[str, list[float]] = {}

    def svc(cache: Path) -> UserPkgService:
        return UserPkgService(
            envs_dir,
            lock_timeout=600,
            uv_options=UvOptions(cache_dir=str(cache)),
            kernels_dir=work / "kernels",
        )

    def fresh_userpkg_env() -> None:
        shutil.rmtree(envs_dir, ignore_errors=True)
        svc(warm_cache).create("bench", kind="venv", kernel=False)  # as a raw uv venv

    venv = work / "venv"

    def fresh_uv_venv() -> None:
        shutil.rmtree(venv, ignore_errors=True)
        sh(UV, "venv", "--quiet", "--python", sys.executable, str(venv))

    def fresh_pip_venv() -> None:
        shutil.rmtree(venv, ignore_errors=True)
        sh(sys.executable, "-m", "venv", str(venv))

    cold = {"n": 0}

    def cold_cache() -> Path:
        cold["n"] += 1
        path = work / f"cold-{cold['n']}"
        return path

    # Warm both caches once (not timed).
    fresh_uv_venv()
    sh(UV, "pip", "install", "--python", str(venv / "bin" / "python"), pkg, env=base_env)
    if not args.skip_pip:
        fresh_pip_venv()
        sh(str(venv / "bin" / "pip"), "install", "--isolated", pkg, env=pip_env)
    cli_env = {**base_env, "JUPYTER_USERPKG_ENVS_DIR": str(envs_dir)}
    cfg = work / "config"
    cfg.mkdir()
    (cfg / "jupyter_userpkg_config.json").write_text(
        json.dumps({"UserPkg": {"uv_cache_dir": str(warm_cache)}})
    )
    cli_env["JUPYTER_CONFIG_DIR"] = str(cfg)
    cli_env["JUPYTER_DATA_DIR"] = str(work / "data")
    cli = [sys.executable, "-m", "jupyter_userpkg"]

    print(f"install {pkg} into an existing env, {runs} runs each, medians", flush=True)
    results["raw uv, warm"] = timed(
        fresh_uv_venv,
        lambda: sh(
            UV, "pip", "install", "--python", str(venv / "bin" / "python"), pkg, env=base_env
        ),
        runs,
    )
    results["core API, warm"] = timed(
        fresh_userpkg_env, lambda: svc(warm_cache).change("bench", install=[pkg]), runs
    )
    results["CLI, warm"] = timed(
        fresh_userpkg_env, lambda: sh(*cli, "install", "-n", "bench", pkg, env=cli_env), runs
    )
    results["raw uv, cold"] = timed(
        fresh_uv_venv,
        lambda: sh(
            UV,
            "pip",
            "install",
            "--python",
            str(venv / "bin" / "python"),
            pkg,
            "--cache-dir",
            str(cold_cache()),
            env=base_env,
        ),
        runs,
    )
    results["core API, cold"] = timed(
        fresh_userpkg_env, lambda: svc(cold_cache()).change("bench", install=[pkg]), runs
    )
    if not args.skip_pip:
        results["pip, warm"] = timed(
            fresh_pip_venv,
            lambda: sh(str(venv / "bin" / "pip"), "install", "--isolated", pkg, env=pip_env),
            runs,
        )
        results["pip, cold"] = timed(
            fresh_pip_venv,
            lambda: sh(
                str(venv / "bin" / "pip"),
                "install",
                "--isolated",
                "--no-cache-dir",
                pkg,
                env=pip_env,
            ),
            runs,
        )
    # No-op: everything requested is already installed.
    fresh_userpkg_env()
    svc(warm_cache).change("bench", install=[pkg])
    results["no-op, CLI"] = timed(
        lambda: None, lambda: sh(*cli, "install", "-n", "bench", pkg, env=cli_env), runs
    )
    fresh_uv_venv()
    sh(UV, "pip", "install", "--python", str(venv / "bin" / "python"), pkg, env=base_env)
    results["no-op, raw uv"] = timed(
        lambda: None,
        lambda: sh(
            UV, "pip", "install", "--python", str(venv / "bin" / "python"), pkg, env=base_env
        ),
        runs,
    )
    # The journal's cost, inside the change it protects: a fresh install (nothing
    # to back up) and an update of the package (its files and numpy's backed up).
    share_install: list[float] = []
    share_update: list[float] = []
    for _ in range(runs):
        fresh_userpkg_env()
        start = time.perf_counter()
        result = svc(warm_cache).change("bench", install=[f"{pkg}<1.17"])
        share_install.append(result.timings["journal"] / (time.perf_counter() - start))
        start = time.perf_counter()
        result = svc(warm_cache).change("bench", install=[pkg], update=[pkg])
        share_update.append(result.timings["journal"] / (time.perf_counter() - start))
    results["journal share, install"] = share_install
    results["journal share, update"] = share_update

    med = {k: statistics.median(v) for k, v in results.items()}
    width = max(len(k) for k in med)
    for key, value in med.items():
        if key.startswith("journal share"):
            continue
        spread = f"(min {min(results[key]):.3f}, max {max(results[key]):.3f})"
        print(f"  {key:<{width}}  {value:7.3f} s  {spread}")
    print("ratios (targets in brackets):")
    print(
        f"  core API / raw uv, warm        {med['core API, warm'] / med['raw uv, warm']:5.2f}x"
        "  [<= 1.5x]"
    )
    print(
        f"  CLI - raw uv, warm             {med['CLI, warm'] - med['raw uv, warm']:+5.2f} s"
        "  [<= +0.6 s]"
    )
    print(f"  core API / raw uv, cold        {med['core API, cold'] / med['raw uv, cold']:5.2f}x")
    if not args.skip_pip:
        print(
            f"  pip / core API, warm           {med['pip, warm'] / med['core API, warm']:5.2f}x"
            "  [>= 5x]"
        )
        print(f"  pip / core API, cold           {med['pip, cold'] / med['core API, cold']:5.2f}x")
    print(f"  no-op through the CLI          {med['no-op, CLI']:5.3f} s  [<= 0.5 s]")
    print(f"  journal share of an install    {med['journal share, install']:5.1%}  [<= 20%]")
    print(f"  journal share of an update     {med['journal share, update']:5.1%}  [<= 20%]")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
