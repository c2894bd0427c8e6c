"""From a `%userpkg install scipy` cell to a successful `import scipy` in the next
cell, against `%pip install scipy` in the same kind of kernel and against raw
`uv pip install` (plus `import scipy` in that venv's python), warm and cold
cache.  Prints medians of ``--runs`` runs and the ratios the project holds
itself to (see README).

Each run starts a fresh kernel (not timed) on a scratch base venv that has
ipykernel and this source tree, so `%pip` never touches the developer's venv.

    python benchmarks/bench_magic.py [--runs 5] [--package scipy]
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
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from jupyter_userpkg.core.options import UvOptions
from jupyter_userpkg.core.service import UserPkgService

UV = str(uv.find_uv_bin())
ROOT = Path(__file__).resolve().parents[1]
DEPS = [
    "ipykernel",
    "uv",
    "packaging",
    "filelock",
    "tomlkit",
    "traitlets",
    "jupyter_core",
    "pyyaml",
]


def sh(*args: str, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(list(args), env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(args)}\n{proc.stderr}")


class Bench:
    def __init__(self, work: Path, package: str) -> None:
        self.work, self.pkg = work, package
        self.base = work / "kbase"
        self.warm_cache = work / "uv-cache"
        self.pip_cache = work / "pip-cache"
        self.envs = work / "envs"
        self.kernels = work / "kernels"
        self.cold_n = 0
        sh(sys.executable, "-m", "venv", str(self.base))  # with pip, for %pip
        py = str(self.base / "bin" / "python")
        sh(UV, "pip", "install", "-q", "--python", py, "--cache-dir", str(self.warm_cache), *DEPS)
        site = next((self.base / "lib").glob("python*/site-packages"))
        (site / "_userpkg_src.pth").write_text(str(ROOT) + "\n")  # this source tree
        spec = self.kernels / "kbase"
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [py, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "bench",
                    "language": "python",
                }
            )
        )
        # Warm every cache once (not timed).
        self.uv_venv()
        sh(
            UV,
            "pip",
            "install",
            "-q",
            "--python",
            str(self.venv / "bin" / "python"),
            "--cache-dir",
            str(self.warm_cache),
            package,
        )
        sh(py, "-m", "pip", "install", "-q", "--cache-dir", str(self.pip_cache), package)
        self.pip_uninstall()

    @property
    def venv(self) -> Path:
        return self.work / "venv"

    def cold_cache(self) -> Path:
        self.cold_n += 1
        return self.work / f"cold-{self.cold_n}"

    def uv_venv(self) -> None:
        shutil.rmtree(self.venv, ignore_errors=True)
        sh(UV, "venv", "-q", "--python", sys.executable, str(self.venv))

    def pip_uninstall(self) -> None:
        sh(
            UV,
            "pip",
            "uninstall",
            "-q",
            "--python",
            str(self.base / "bin" / "python"),
            self.pkg,
            "numpy",
        )

    def fresh_default(self, cache: Path) -> None:
        shutil.rmtree(self.envs, ignore_errors=True)
        svc = UserPkgService(
            self.envs,
            base_python=str(self.base / "bin" / "python"),
            kernels_dir=self.work / "data" / "kernels",
            uv_options=UvOptions(cache_dir=str(cache)),
        )
        svc.create("default", kind="layer")

    def kernel(self, cache: Path) -> tuple[KernelManager, object]:
        config = self.work / "config"
        config.mkdir(exist_ok=True)
        (config / "jupyter_userpkg_config.json").write_text(
            json.dumps({"UserPkg": {"uv_cache_dir": str(cache)}})
        )
        os.environ.update(
            JUPYTER_USERPKG_ENVS_DIR=str(self.envs),
            JUPYTER_CONFIG_DIR=str(config),
            JUPYTER_DATA_DIR=str(self.work / "data"),
            PIP_CACHE_DIR=str(self.pip_cache),
        )
        ksm = KernelSpecManager(kernel_dirs=[str(self.kernels)], ensure_native_kernel=False)
        km = KernelManager(kernel_name="kbase", kernel_spec_manager=ksm)
        km.start_kernel()
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        return km, kc

    def cells(self, setup: str, cells: list[str], cache: Path) -> float:
        km, kc = self.kernel(cache)
        try:
            self.run_cell(kc, setup)
            start = time.perf_counter()
            for code in cells:
                self.run_cell(kc, code)
            return time.perf_counter() - start
        finally:
            kc.stop_channels()  # type: ignore[attr-defined]
            km.shutdown_kernel(now=True)

    @staticmethod
    def run_cell(kc: object, code: str) -> None:
        failed: list[str] = []

        def hook(msg: dict[str, object]) -> None:
            if msg["msg_type"] == "error":
                failed.append(str(msg["content"]))
            if msg["msg_type"] == "stream" and "error" in str(msg["content"]):
                failed.append(str(msg["content"]))

        kc.execute_interactive(code, output_hook=hook, timeout=600)  # type: ignore[attr-defined]
        if failed:
            raise SystemExit(f"cell failed: {code}\n{failed}")

    def userpkg(self, cache: Path) -> float:
        self.fresh_default(cache)
        base = str(self.base / "bin" / "python")
        probe = subprocess.run([base, "-c", f"import {self.pkg}"], capture_output=True)
        if probe.returncode == 0:
            raise SystemExit(
                f"the kernel's base already has {self.pkg}: the run would measure nothing"
            )
        return self.cells(
            "%load_ext jupyter_userpkg",
            [f"%userpkg install {self.pkg}", f"import {self.pkg}"],
            cache,
        )

    def pip(self, extra: list[str]) -> float:
        """`%pip` installs into the kernel's own interpreter: undo it after each run."""
        self.pip_uninstall()
        line = " ".join(["%pip install -q", *extra, self.pkg])
        try:
            return self.cells("pass", [line, f"import {self.pkg}"], self.warm_cache)
        finally:
            self.pip_uninstall()

    def raw_uv(self, cache: Path) -> float:
        self.uv_venv()
        py = str(self.venv / "bin" / "python")
        start = time.perf_counter()
        sh(UV, "pip", "install", "-q", "--python", py, "--cache-dir", str(cache), self.pkg)
        sh(py, "-c", f"import {self.pkg}")
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--package", default="scipy")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="userpkg-bench-magic-"))
    try:
        bench = Bench(work, args.package)
        measures: dict[str, Callable[[], float]] = {
            "raw uv + import, warm": lambda: bench.raw_uv(bench.warm_cache),
            "%userpkg cell + import, warm": lambda: bench.userpkg(bench.warm_cache),
            "%pip cell + import, warm": lambda: bench.pip([]),
            "raw uv + import, cold": lambda: bench.raw_uv(bench.cold_cache()),
            "%userpkg cell + import, cold": lambda: bench.userpkg(bench.cold_cache()),
            "%pip cell + import, cold": lambda: bench.pip(["--no-cache-dir"]),
        }
        print(
            f"install {args.package} from a cell, then import it; {args.runs} runs, medians",
            flush=True,
        )
        med: dict[str, float] = {}
        for name, measure in measures.items():
            times = [measure() for _ in range(args.runs)]
            med[name] = statistics.median(times)
            print(
                f"  {name:<30} {med[name]:7.3f} s  (min {min(times):.3f}, max {max(times):.3f})",
                flush=True,
            )
        print("ratios (targets in brackets):")
        for temp in ("warm", "cold"):
            ours = med[f"%userpkg cell + import, {temp}"]
            pip = med[f"%pip cell + import, {temp}"] / ours
            raw = ours / med[f"raw uv + import, {temp}"]
            print(
                f"  {temp}: %pip / %userpkg {pip:5.2f}x" + ("  [>= 5x]" if temp == "warm" else "")
            )
            print(
                f"  {temp}: %userpkg / raw uv {raw:5.2f}x"
                + ("  [<= 1.5x]" if temp == "warm" else "")
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
