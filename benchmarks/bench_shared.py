"""Disk and time for N users over one shared stack, against each user holding the stack.

For N = 1, 5, 20 (``--counts``) users, side by side:

- **layers**: the administrator creates the stack once as a shared venv; each user
  makes ``create mine --over stack`` (its kernel's ipykernel is the stack's);
- **own copies** (the baseline): each user creates the same stack as a venv of their own.

``layers/one copy`` is the layers' disk against one user's own copy (env and cache).

Users are simulated as separate envs dirs, caches and kernels dirs of the one Unix
account that runs the script; the administrator's shared env is made as the admin guide
says, ``create stack --shared`` (the command, dispatched as the CLI does).
Every user has an uv cache of their own (a hub's users cannot share a writable one),
and the wheels come from one local directory (``--find-links``, what an administrator
may share read-only), downloaded from PyPI once before anything is timed, so the
network is not measured.  Disk is the bytes of every file of the shared dir, the users'
envs dirs and their caches, a file hard-linked several times counted once.  Time is
each user's ``create`` (median over the users) plus, for the first user, a kernel
started in the env and a cell run (time to a working kernel).

Targets: 20 users' layers <= 1.2x one copy of the stack; a user's layer ready in
<= 1.5 s plus the time of what it adds.

    python benchmarks/bench_shared.py [--counts 1 5 20] [--stack numpy pandas ipykernel]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_userpkg.commands.dispatch import dispatch
from jupyter_userpkg.commands.verbs import Create
from jupyter_userpkg.core.options import UvOptions
from jupyter_userpkg.core.service import UserPkgService
from jupyter_userpkg.core.shared import Shared


def disk(*roots: Path) -> int:
    """Bytes of the files under ``roots``, each inode once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root in roots:
        for top, _, files in os.walk(root):
            for name in files:
                info = os.lstat(os.path.join(top, name))
                if (info.st_dev, info.st_ino) not in seen:
                    seen.add((info.st_dev, info.st_ino))
                    total += info.st_size
    return total


def kernel_ready(kernels_dir: Path, timeout: float = 120) -> float:
    """Seconds to start the env's kernel (its kernelspec in ``kernels_dir``) and run a cell."""
    code = f"""
import sys, time
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
t = time.perf_counter()
km = KernelManager(
    kernel_name="userpkg-mine", kernel_spec_manager=KernelSpecManager(kernel_dirs=[sys.argv[1]])
)
km.start_kernel()
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout={timeout})
kc.execute_interactive("import numpy", timeout={timeout})
print(time.perf_counter() - t)
kc.stop_channels()
km.shutdown_kernel(now=True)
"""
    done = subprocess.run(
        [sys.executable, "-c", code, str(kernels_dir)], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def user(root: Path, i: int, wheels: Path, shared: Shared | None = None) -> UserPkgService:
    uv = UvOptions(find_links=(str(wheels),), cache_dir=str(root / f"cache-{i}"))
    return UserPkgService(
        root / f"envs-{i}", uv_options=uv, kernels_dir=root / f"kernels-{i}", shared_envs=shared
    )


def run(count: int, stack: list[str], wheels: Path, top: Path) -> dict[str, float]:
    layers, copies = top / f"layers-{count}", top / f"copies-{count}"
    shared_dir = layers / "shared"
    admin_uv = UvOptions(find_links=(str(wheels),), cache_dir=str(layers / "admin-cache"))
    shared_dir.mkdir(parents=True)
    shared = Shared((shared_dir,), layers / "kernels")
    admin = UserPkgService(
        layers / "admin-envs",
        uv_options=admin_uv,
        kernels_dir=layers / "kernels",
        shared_envs=shared,
    )
    dispatch(admin, Create(name="stack", kind="venv", specs=tuple(stack), shared=True))
    layer_times, copy_times = [], []
    for i in range(count):
        svc = user(layers, i, wheels, shared)
        start = time.perf_counter()
        dispatch(svc, Create(name="mine", over="stack"))
        layer_times.append(time.perf_counter() - start)
        svc = user(copies, i, wheels)
        start = time.perf_counter()
        svc.create("mine", kind="venv", specs=stack)
        copy_times.append(time.perf_counter() - start)
    return {
        "layers_bytes": disk(layers),
        "copies_bytes": disk(copies),
        "stack_bytes": disk(shared_dir / "stack"),
        "layer_s": statistics.median(layer_times),
        "copy_s": statistics.median(copy_times),
        "layer_kernel_s": kernel_ready(layers / "kernels-0"),
        "copy_kernel_s": kernel_ready(copies / "kernels-0"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--stack", nargs="+", default=["numpy", "pandas", "ipykernel"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-shared-") as tmp:
        top = Path(tmp)
        wheels = top / "wheels"
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "-d", str(wheels), *args.stack],
            check=True,
        )
        mb = 1024 * 1024
        print(f"stack: {' '.join(args.stack)}")
        print(
            f"{'users':>5} {'layers MB':>10} {'copies MB':>10} {'layers/one copy':>15} "
            f"{'layer s':>8} {'copy s':>7} {'kernel layer s':>14} {'kernel copy s':>13}"
        )
        for count in args.counts:
            r = run(count, args.stack, wheels, top)
            print(
                f"{count:>5} {r['layers_bytes'] / mb:>10.1f} {r['copies_bytes'] / mb:>10.1f} "
                f"{r['layers_bytes'] / (r['copies_bytes'] / count):>15.2f} {r['layer_s']:>8.2f} "
                f"{r['copy_s']:>7.2f} {r['layer_kernel_s']:>14.2f} {r['copy_kernel_s']:>13.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
