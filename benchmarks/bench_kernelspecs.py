"""``GET api/kernelspecs`` of a real server at 1, 100 and 300 envs with kernels.

Jupyter's default kernel spec manager reads every kernelspec directory on each
request (and jupyter_server lists each one's files for logos); the extension's
(``server/kernelspecs.py``) reads one index the store rewrites at commit. Both run
side by side over the same kernels dir: two fresh servers per count, one per manager
(``UserPkg.kernel_spec_manager`` true or false), asked in turn so that both see the
same load of the machine; p50/p95 of ``--rounds`` requests each after a few untimed
ones, and how many cards JupyterLab's launcher would show (two per kernelspec it
shows: a notebook and a console).

The first env is made through the service (a layer env: its kernelspec is the one
every env gets); the others get theirs as a commit writes them
(``kernels.sync``, which also rewrites the index).

Target: p95 at 300 envs <= 2x p95 at 1 env, with the extension's manager.

    python benchmarks/bench_kernelspecs.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_server import Client, percentiles
from tests.serverproc import ServerProcess

COUNTS = (1, 100, 300)


def make_envs(envs_dir: Path, kernels_dir: Path, count: int) -> None:
    """Kernelspecs of ``count`` envs in all: ``e000`` made for real, the rest as its."""
    from jupyter_userpkg.core import kernels
    from jupyter_userpkg.core.service import UserPkgService

    if not (envs_dir / "e000").exists():
        UserPkgService(envs_dir, kernels_dir=kernels_dir).create("e000", kind="layer")
    have = len([p for p in kernels_dir.iterdir() if p.name.startswith(kernels.PREFIX)])
    first = (kernels_dir / kernels.kernel_name("e000") / "kernel.json").read_text()
    for i in range(have, count):
        name = f"e{i:03d}"
        spec = json.loads(first.replace("e000", name))
        files = kernels.KernelFiles(kernels.kernel_name(name), spec)
        kernels.sync(kernels_dir, name, envs_dir, [files])


def launcher_cards(specs: dict[str, Any]) -> int:
    shown = [
        s
        for s in specs.values()
        if s["spec"].get("metadata", {}).get("userpkg", {}).get("launcher", True)
    ]
    return 2 * len(shown)


def run(home: Path, envs_dir: Path, rounds: int) -> dict[bool, tuple[float, float, int]]:
    """Both managers' servers at once, one request to each in turn (so both see the same
    load of the machine): manager -> (p50, p95, launcher cards)."""
    servers = {
        ours: ServerProcess(
            home / ("ours" if ours else "default"),
            {"envs_dir": str(envs_dir), "kernel_spec_manager": ours},
        )
        for ours in (False, True)
    }
    data = home / "data"
    try:
        clients = {}
        for ours, server in servers.items():
            (server.home / "data").mkdir(parents=True, exist_ok=True)
            kernels = server.home / "data" / "kernels"
            if not kernels.exists():
                kernels.symlink_to(data / "kernels", target_is_directory=True)
            clients[ours] = Client(server.start())
        samples: dict[bool, list[float]] = {ours: [] for ours in servers}
        for _ in range(5):
            for client in clients.values():
                client.get("api/kernelspecs")
        for _ in range(rounds):
            for ours, client in clients.items():
                samples[ours].append(client.timed("api/kernelspecs"))
        out = {}
        for ours, client in clients.items():
            cards = launcher_cards(client.get("api/kernelspecs")["kernelspecs"])
            out[ours] = (*percentiles(samples[ours]), cards)
        return out
    finally:
        for server in servers.values():
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        envs_dir = Path(tmp) / "envs"
        kernels_dir = home / "data" / "kernels"
        kernels_dir.mkdir(parents=True)
        print("envs  manager                     p50 ms  p95 ms  launcher cards (kernel)")
        for count in COUNTS:
            make_envs(envs_dir, kernels_dir, count)
            found = run(home, envs_dir, args.rounds)
            for label, ours in (("Jupyter's default", False), ("jupyter-userpkg's", True)):
                p50, p95, cards = found[ours]
                print(f"{count:>4}  {label:<26} {p50:>7.2f} {p95:>7.2f}  {cards:>6}")


if __name__ == "__main__":
    main()
