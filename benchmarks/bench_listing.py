"""Listing many real envs: ``jupyter-userpkg envs`` and a server's ``GET envs`` at 1, 100, 300.

Each env is a real venv env made through the service (``create`` with
ipykernel, from PyPI through uv's cache: its lock holds ipykernel's whole
closure, as a user's env does), with its own revision, summary and kernelspec;
none is a copy of another.  Making 300 takes a few minutes.  Timed side by side
with another checkout's ``jupyter_userpkg`` (``--tree``, an older revision),
over the same envs:

- the CLI: ``python -m jupyter_userpkg envs`` wall time (median of ``--runs``);
- a fresh server per count: its first ``GET userpkg/api/envs``, then p50/p95 of
  ``--rounds`` more (first call included in the p95).

Targets: CLI ``envs`` at 300 envs <= 1.5x at 1 env; ``GET envs`` p95 <= 10 ms at
300 envs, first call included.

    python benchmarks/bench_listing.py [--tree ../old-checkout] [--runs 7] [--rounds 100]
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_server import Client, percentiles
from tests.serverproc import ServerProcess

COUNTS = (1, 100, 300)


def make_envs(svc: Any, count: int) -> None:
    """``count`` envs in all, each made by ``create`` with ipykernel and a kernelspec."""
    for i in range(len(svc.store.names()), count):
        svc.create(f"e{i:03d}", kind="venv", kernel=True)


def cli_envs(home: Path, tree: Path | None, runs: int) -> float:
    """Median wall time (ms) of ``python -m jupyter_userpkg envs`` in a fresh process."""
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config")}
    env.pop("JUPYTER_CONFIG_PATH", None)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "jupyter_userpkg", "envs", "--json"],
            env=env,
            check=True,
            capture_output=True,
        )
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def server_envs(home: Path, settings: dict[str, Any], tree: Path | None, rounds: int) -> Any:
    """(first, p50, p95) ms of ``GET userpkg/api/envs`` on a fresh server."""
    server = ServerProcess(home, settings, tree=tree)
    try:
        client = Client(server.start())
        samples = [client.timed("userpkg/api/envs") for _ in range(rounds + 1)]
    finally:
        server.stop()
    p50, p95 = percentiles(samples)
    return samples[0], p50, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, help="another checkout to compare with")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    # Every process of both sides reads compiled bytecode, as an installed package does.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for tree_dir in (Path(__file__).resolve().parents[1], args.tree):
        if tree_dir is not None:
            package = str(tree_dir / "jupyter_userpkg")
            subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=False)

    from traitlets.config import Config

    from jupyter_userpkg.commands.config import UserPkg
    from jupyter_userpkg.core.service import UserPkgService

    tmp = Path(tempfile.mkdtemp(prefix="bench-listing-"))
    envs_dir, kernels_dir = tmp / "envs", tmp / "kernels"
    settings = {"envs_dir": str(envs_dir), "kernels_dir": str(kernels_dir)}
    for name in ("cli", "now", "before"):
        (tmp / name / "config").mkdir(parents=True)
        config = {"UserPkg": settings}
        (tmp / name / "config" / "jupyter_userpkg_config.json").write_text(json.dumps(config))
    svc = UserPkgService.from_config(UserPkg(config=Config({"UserPkg": settings})))
    trees: dict[str, Path | None] = {"this tree": None}
    if args.tree is not None:
        trees[str(args.tree)] = args.tree.resolve()
    print(f"{'envs':>5}  {'tree':<28} {'CLI envs':>10} {'GET first':>10} {'p50':>8} {'p95':>8}")
    cli_ms: dict[tuple[str, int], float] = {}
    p95_ms: dict[str, float] = {}
    for count in COUNTS:
        make_envs(svc, count)
        for label, tree in trees.items():
            cli = cli_ms[label, count] = cli_envs(tmp / "cli", tree, args.runs)
            home = tmp / ("now" if tree is None else "before")
            first, p50, p95 = server_envs(home, settings, tree, args.rounds)
            p95_ms[label] = p95
            print(
                f"{count:>5}  {label[-28:]:<28} {cli:8.0f} ms {first:7.1f} ms "
                f"{p50:5.1f} ms {p95:5.1f} ms"
            )
    for label in trees:
        ratio = cli_ms[label, COUNTS[-1]] / cli_ms[label, COUNTS[0]]
        print(
            f"{label[-28:]:<28} CLI envs {COUNTS[-1]}/{COUNTS[0]} envs {ratio:4.2f}x [<= 1.5x]; "
            f"GET envs p95 at {COUNTS[-1]} {p95_ms[label]:5.1f} ms [<= 10 ms]"
        )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
