"""Listing many real envs: ``jupyter-userpkg envs`` and a server's ``GET envs`` at 1, 100, 300.

Each env is a real venv env made through the service (``create`` with
ipykernel, from PyPI through uv's cache: its lock holds ipykernel's whole
closure, as a user's env does), with its own revision, summary and kernelspec;
none is a copy of another.  Making 300 takes a few minutes; ``--keep DIR`` keeps
them in DIR for the next run (envs beyond a count wait in ``DIR/aside``, their
kernelspecs with them).  Timed side by side with another checkout's
``jupyter_userpkg`` (``--tree``, an older revision), over the same envs, the two
sides interleaved so that the machine's load hits both alike:

- the CLI: ``python -m jupyter_userpkg envs --json`` in a fresh process, the
  sides alternating, ``--runs`` each: median wall time, and median CPU time of
  the process (user + system; what load on a shared machine changes least);
- a fresh server per side and count, both running: the first ``GET
  userpkg/api/envs`` of each, then ``--rounds`` rounds asking each server in
  turn: p50/p95 (first call included in the p95).

Both trees are byte-compiled first and every process reads bytecode, as an
installed package does.  Targets: CLI ``envs`` at 300 envs <= 1.5x at 1 env;
``GET envs`` p95 <= 10 ms at 300 envs, first call included.

    python benchmarks/bench_listing.py [--tree ../old-checkout] [--runs 9] [--rounds 100]
        [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def arrange(root: Path, count: int) -> None:
    """Envs ``e000`` to ``e<count-1>`` (and their kernelspecs) in place, the rest aside."""
    from jupyter_userpkg.core.kernels import kernel_name

    for name in sorted(os.listdir(root / "envs")) + sorted(os.listdir(root / "aside" / "envs")):
        if not name.startswith("e"):
            continue
        here = int(name[1:]) < count
        for sub, entry in (("envs", name), ("kernels", kernel_name(name))):
            src = root / ("aside" if here else "") / sub / entry
            if src.exists():
                os.rename(src, root / ("" if here else "aside") / sub / entry)


def cli_envs(homes: dict[str, Path], trees: dict[str, Path], runs: int) -> dict[str, Any]:
    """Per side: (median wall ms, median CPU ms) of ``envs --json`` in fresh processes."""
    wall: dict[str, list[float]] = {label: [] for label in trees}
    cpu: dict[str, list[float]] = {label: [] for label in trees}
    for _ in range(runs + 1):  # the first round untimed
        for label, tree in trees.items():
            env = {**os.environ, "JUPYTER_CONFIG_DIR": str(homes[label] / "config")}
            env.pop("JUPYTER_CONFIG_PATH", None)
            env["PYTHONPATH"] = str(tree)
            used = _children_cpu()
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "jupyter_userpkg", "envs", "--json"],
                env=env,
                check=True,
                capture_output=True,
                cwd=homes[label],
            )
            wall[label].append((time.perf_counter() - start) * 1000)
            cpu[label].append((_children_cpu() - used) * 1000)
    return {
        label: (statistics.median(wall[label][1:]), statistics.median(cpu[label][1:]))
        for label in trees
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def server_envs(
    homes: dict[str, Path], settings: dict[str, Any], trees: dict[str, Path], rounds: int
) -> dict[str, tuple[float, float, float]]:
    """Per side: (first, p50, p95) ms of ``GET userpkg/api/envs``, fresh servers asked in turn."""
    servers = {
        label: ServerProcess(homes[label], settings, tree=tree) for label, tree in trees.items()
    }
    try:
        clients = {label: Client(server.start()) for label, server in servers.items()}
        samples: dict[str, list[float]] = {label: [] for label in trees}
        for _ in range(rounds + 1):
            for label, client in clients.items():
                samples[label].append(client.timed("userpkg/api/envs"))
    finally:
        for server in servers.values():
            server.stop()
    out = {}
    for label, taken in samples.items():
        p50, p95 = percentiles(taken)
        out[label] = (taken[0], p50, p95)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, help="another checkout to compare with")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="make the envs here, and keep them")
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1]
    trees = {"this tree": here, **({str(args.tree): args.tree.resolve()} if args.tree else {})}
    # Every process of both sides reads compiled bytecode, as an installed package does.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for tree_dir in trees.values():
        package = str(tree_dir / "jupyter_userpkg")
        subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=False)

    from traitlets.config import Config

    from jupyter_userpkg.commands.config import UserPkg
    from jupyter_userpkg.core.service import UserPkgService

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-listing-"))
    for sub in ("envs", "kernels", "aside/envs", "aside/kernels"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    settings = {"envs_dir": str(root / "envs"), "kernels_dir": str(root / "kernels")}
    homes = {label: root / f"home{i}" for i, label in enumerate(trees)}
    for home in homes.values():
        (home / "config").mkdir(parents=True, exist_ok=True)
        config = {"UserPkg": settings}
        (home / "config" / "jupyter_userpkg_config.json").write_text(json.dumps(config))
    svc = UserPkgService.from_config(UserPkg(config=Config({"UserPkg": settings})))
    head = f"{'envs':>5}  {'tree':<28} {'CLI wall':>9} {'CLI cpu':>9} {'GET first':>10}"
    print(f"{head} {'p50':>8} {'p95':>8}", flush=True)
    cli_ms: dict[tuple[str, int], tuple[float, float]] = {}
    p95_ms: dict[str, float] = {}
    for count in COUNTS:
        arrange(root, count)
        make_envs(svc, count)
        cli = cli_envs(homes, trees, args.runs)
        served = server_envs(homes, settings, trees, args.rounds)
        for label in trees:
            (wall, cpu), (first, p50, p95) = cli[label], served[label]
            cli_ms[label, count], p95_ms[label] = (wall, cpu), p95
            print(
                f"{count:>5}  {label[-28:]:<28} {wall:6.0f} ms {cpu:6.0f} ms {first:7.1f} ms "
                f"{p50:5.1f} ms {p95:5.1f} ms",
                flush=True,
            )
    for label in trees:
        (wall_n, cpu_n), (wall_1, cpu_1) = cli_ms[label, COUNTS[-1]], cli_ms[label, COUNTS[0]]
        print(
            f"{label[-28:]:<28} CLI envs {COUNTS[-1]}/{COUNTS[0]} envs: "
            f"wall {wall_n / wall_1:4.2f}x, cpu {cpu_n / cpu_1:4.2f}x [<= 1.5x]; "
            f"GET envs p95 at {COUNTS[-1]}: "
            f"{p95_ms[label]:5.1f} ms [<= 10 ms]"
        )
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    else:
        arrange(root, COUNTS[-1])


if __name__ == "__main__":
    main()
