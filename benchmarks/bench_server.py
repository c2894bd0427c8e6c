"""The REST API's latency and the extension's memory, with a real server on loopback.

Measured against the same server's own endpoints, side by side (every round
asks each endpoint once, in turn, so machine noise hits all alike):

- ``GET userpkg/api/envs`` with 20 and with 100 envs, beside Jupyter's own
  ``GET api/kernelspecs`` (which also reads a directory of small files) and
  ``GET api/status`` (the floor of any authenticated request).
- ``GET userpkg/api/envs/{env}/packages`` of a layer that sees 150+
  distributions (its base: this checkout's interpreter).
- Both again while a large install runs in a job of the same server
  (``jupyterlab`` into a venv env from PyPI, with an empty uv cache, so
  downloading, unpacking and linking all happen during the requests).
- ``GET userpkg/api/search`` after warm-up: PyPI names (the index's whole
  project list) and conda names of the real 2018 repodata
  (``../shared/data/repodata-2018/defaults-2018`` as a ``file://`` channel).
- The server's resident memory (RSS, from ``/proc``) without the extension,
  with it after its first requests, and after the 2018 repodata is loaded.

Targets: packages p95 <= 50 ms; envs p95 <= 100 ms at 100 envs and during an
install; search p95 <= 150 ms; RSS overhead <= 25 MB before conda repodata.

    python benchmarks/bench_server.py [--rounds 200] [--no-install]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.serverproc import ServerProcess

DATA = Path(
    os.environ.get("JUPYTER_USERPKG_REPODATA_2018")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "repodata-2018"
)
CHANNEL = (DATA / "defaults-2018").as_uri()
#: What the layer ``big`` adds to its base, so that it holds 150+ distributions in all.
BIG = [
    "pandas",
    "scipy",
    "matplotlib",
    "scikit-learn",
    "sympy",
    "dask",
    "bokeh",
    "polars",
    "seaborn",
    "statsmodels",
    "xarray",
    "networkx",
    "h5py",
    "sqlalchemy",
    "pyarrow",
]
PYPI_QUERIES = ["numpy", "scikit", "jupyterlab-g", "requests", "tabul", "pandas", "xgboost", "dask"]
CONDA_QUERIES = ["numpy", "scikit", "python", "libgcc", "r-base", "openssl", "mkl", "pandas"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Client:
    """One keep-alive connection to the server, as a browser tab has."""

    def __init__(self, server: ServerProcess) -> None:
        import httpx

        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{server.port}/",
            headers={"Authorization": f"token {server.token}"},
            timeout=60,
        )

    def get(self, path: str, **params: str) -> Any:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def timed(self, path: str, **params: str) -> float:
        start = time.perf_counter()
        response = self.http.get(path, params=params)
        elapsed = (time.perf_counter() - start) * 1000
        response.raise_for_status()
        return elapsed


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), cuts[18]


def measure(
    client: Client, targets: dict[str, Callable[[], float]], rounds: int
) -> dict[str, list[float]]:
    """Every target once per round, interleaved; a few untimed rounds first."""
    for _ in range(5):
        for fn in targets.values():
            fn()
    out: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, fn in targets.items():
            out[name].append(fn())
    return out


def report(title: str, results: dict[str, list[float]], baseline: str | None = None) -> None:
    print(f"\n{title}")
    base = statistics.median(results[baseline]) if baseline else None
    for name, samples in results.items():
        p50, p95 = percentiles(samples)
        ratio = f"  {p50 / base:5.2f}x {baseline}" if base and name != baseline else ""
        print(
            f"  {name:<44} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  "
            f"min {min(samples):6.2f}  max {max(samples):7.2f}{ratio}"
        )


def make_envs(envs_dir: Path, count: int, template: Path) -> None:
    """``count`` envs in all: copies of one real env (listing reads their metadata only)."""
    have = sum(1 for p in envs_dir.iterdir() if p.name.startswith("e"))
    for i in range(have, count):
        shutil.copytree(template, envs_dir / f"e{i:03d}", symlinks=True)


def compare_envs(
    args: argparse.Namespace, tmp: Path, settings: dict[str, Any], envs_dir: Path
) -> None:
    """GET envs on this tree and on ``--tree``, two servers side by side, 20 and 100 envs."""
    servers = {
        "this tree": ServerProcess(tmp / "now", settings),
        str(args.tree): ServerProcess(tmp / "before", settings, tree=args.tree.resolve()),
    }
    try:
        clients = {name: Client(server.start()) for name, server in servers.items()}
        for count in (20, 50, 100):
            make_envs(envs_dir, count, envs_dir / "e000")
            targets = {
                f"GET userpkg/api/envs ({name})": (lambda c=c: c.timed("userpkg/api/envs"))
                for name, c in clients.items()
            }
            n = len(next(iter(clients.values())).get("userpkg/api/envs"))
            report(
                f"before and after, {n} envs ({args.rounds // 4} rounds)",
                measure(next(iter(clients.values())), targets, args.rounds // 4),
                "GET userpkg/api/envs (this tree)",
            )
    finally:
        for server in servers.values():
            server.stop()
    for path in envs_dir.iterdir():  # back to one copy: the main runs make their own
        if path.name.startswith("e") and path.name != "e000":
            shutil.rmtree(path)


def _config(settings: dict[str, Any]) -> Any:
    from traitlets.config import Config

    from jupyter_userpkg.commands.config import UserPkg

    return UserPkg(config=Config({"UserPkg": settings}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--no-install", action="store_true", help="skip the during-install runs")
    parser.add_argument(
        "--tree",
        type=Path,
        help="also time GET envs on the jupyter_userpkg of another checkout (an older revision)",
    )
    args = parser.parse_args()

    from jupyter_userpkg.core.service import UserPkgService

    tmp = Path(tempfile.mkdtemp(prefix="bench-server-"))
    envs_dir = tmp / "envs"
    settings = {
        "envs_dir": str(envs_dir),
        "uv_cache_dir": str(tmp / "uv-cache"),
        "repodata_cache_dir": str(tmp / "repodata"),
        "conda_pkgs_dir": str(tmp / "pkgs"),
        "default_channels": [CHANNEL],
        "kernels_dir": str(tmp / "kernels"),
    }
    # The PyPI project list as a server finds it cached on disk (any earlier search
    # fetched it; the server's first search reads it from there).
    settings["search_cache_dir"] = str(tmp / "search")
    # The setup uses the user's own uv cache: the server's stays empty for the install.
    svc = UserPkgService.from_config(
        _config({k: v for k, v in settings.items() if k != "uv_cache_dir"})
    )
    svc.search("numpy", source="pypi")
    svc.create("e000", kind="venv", kernel=False, specs=["six"])
    svc.create("big", kind="layer", kernel=False, specs=BIG)
    svc.create("work", kind="venv", kernel=False)

    bare = ServerProcess(tmp / "bare", settings, extension=False)
    try:
        bare.start()
        c = Client(bare)
        c.get("api/status")
        bare_rss = rss_mb(bare.proc.pid)  # type: ignore[union-attr]
    finally:
        bare.stop()

    if args.tree is not None:
        compare_envs(args, tmp, settings, envs_dir)

    server = ServerProcess(tmp / "home", settings)
    server.start()
    try:
        client = Client(server)
        pid = server.proc.pid  # type: ignore[union-attr]
        client.get("userpkg/api/envs")
        client.get("userpkg/api/envs/big/packages")
        ext_rss = rss_mb(pid)
        n_packages = len(client.get("userpkg/api/envs/big/packages"))

        reads = {
            "GET userpkg/api/envs": lambda: client.timed("userpkg/api/envs"),
            "GET userpkg/api/envs/big/packages": lambda: client.timed(
                "userpkg/api/envs/big/packages"
            ),
            "GET api/kernelspecs (Jupyter's own)": lambda: client.timed("api/kernelspecs"),
            "GET api/status (Jupyter's own)": lambda: client.timed("api/status"),
        }
        for count in (20, 100):
            make_envs(envs_dir, count, envs_dir / "e000")
            n = len(client.get("userpkg/api/envs"))
            report(
                f"idle, {n} envs; the layer sees {n_packages} packages ({args.rounds} rounds)",
                measure(client, reads, args.rounds),
                "GET api/status (Jupyter's own)",
            )

        if not args.no_install:
            started = time.perf_counter()
            job = client.http.post(
                "userpkg/api/envs/work/transactions", json={"install": ["jupyterlab", *BIG]}
            ).json()
            samples: dict[str, list[float]] = {name: [] for name in reads}
            state = "queued"
            while state in ("queued", "running"):
                for name, fn in reads.items():
                    samples[name].append(fn())
                state = client.get(f"userpkg/api/jobs/{job['id']}")["state"]
            seconds = time.perf_counter() - started
            done = client.get(f"userpkg/api/jobs/{job['id']}")
            added = len((done.get("plan") or {}).get("changes", []))
            report(
                f"during an install of jupyterlab and {len(BIG)} more ({added} packages, "
                f"{seconds:.1f} s, {state}), 100 envs, "
                f"{len(samples['GET userpkg/api/envs'])} rounds",
                samples,
                "GET api/status (Jupyter's own)",
            )

        pypi_all = lambda: client.timed(  # noqa: E731
            "userpkg/api/search",
            q=PYPI_QUERIES[int(time.time() * 1000) % len(PYPI_QUERIES)],
            source="pypi",
        )
        conda_all = lambda: client.timed(  # noqa: E731
            "userpkg/api/search",
            q=CONDA_QUERIES[int(time.time() * 1000) % len(CONDA_QUERIES)],
            source="conda",
        )
        client.get("userpkg/api/search", q="numpy", source="pypi")
        pypi_rss = rss_mb(pid)
        client.get("userpkg/api/search", q="numpy", source="conda")
        searches = {
            "GET userpkg/api/search (PyPI names)": pypi_all,
            "GET userpkg/api/search (conda 2018 repodata)": conda_all,
            "GET api/status (Jupyter's own)": reads["GET api/status (Jupyter's own)"],
        }
        report(
            f"search after warm-up ({args.rounds // 2} rounds, queries rotate)",
            measure(client, searches, args.rounds // 2),
            "GET api/status (Jupyter's own)",
        )
        conda_rss = rss_mb(pid)
        print("\nresident memory of the server (RSS)")
        print(f"  without the extension                     {bare_rss:7.1f} MB")
        print(
            f"  with it, after envs and packages          {ext_rss:7.1f} MB"
            f"  (+{ext_rss - bare_rss:.1f} MB)"
        )
        print(
            f"  after a first PyPI search (names cached)   {pypi_rss:7.1f} MB"
            f"  (+{pypi_rss - bare_rss:.1f} MB)"
        )
        print(
            f"  after searching PyPI names and 2018 conda {conda_rss:7.1f} MB"
            f"  (+{conda_rss - bare_rss:.1f} MB)"
        )
    finally:
        server.stop()
        threading.Thread(target=shutil.rmtree, args=(tmp, True), daemon=True).start()


if __name__ == "__main__":
    main()
