"""From "No module named X" to the offer: how long ``provides`` takes, warm and cold.

What a cell's error waits for before the offer shows (the REST API, the magic and
the CLI all call ``UserPkgService.provides``):

- **warm** (``import yaml``, answered by an installed distribution): the user has
  ``--envs`` envs of ``--dists`` distributions each, beside the base (this venv).
  *server*: a long-lived process that answered before (its memory caches);
  *new process*: the first lookup of a process with the disk cache (a new kernel,
  the CLI); baseline: every env's site-packages read through ``importlib.metadata``
  with no cache (what answering from installed files costs without one).
- **cold** (``import slugify`` -> ``python-slugify``, ``import pandas`` -> ``pandas``,
  verified on PyPI): no wheel cache, a new HTTP client each run; the candidates'
  pages and the newest wheels' RECORDs read with range requests.  Baseline: the same
  newest wheel downloaded whole and its RECORD read (what reading a wheel without
  range requests costs).

p50 and p95 of ``--runs`` runs each.  Targets: warm <= 300 ms, cold <= 2 s.

    python benchmarks/bench_provides.py [--runs 20] [--envs 10] [--dists 60]
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import io
import os
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from jupyter_userpkg.core import installedimports
from jupyter_userpkg.core.pypi import index as pypiindex
from jupyter_userpkg.core.pypi.wheelfiles import newest_wheel
from jupyter_userpkg.core.service import UserPkgService


def quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def timed(
    fn: Callable[[], object], runs: int, before: Callable[[], None] = lambda: None
) -> list[float]:
    out = []
    for _ in range(runs):
        before()
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def make_envs(envs_dir: Path, envs: int, dists: int) -> None:
    """``envs`` envs (as the store lays them out) of ``dists`` distributions each."""
    from jupyter_userpkg.core.store import EnvStore

    store = EnvStore(envs_dir)
    store.ensure()
    for e in range(envs):
        name = f"env{e:02d}"
        site = store.prefix(name) / "lib" / "python3.11" / "site-packages"
        for d in range(dists):
            dist = site / f"pkg_{e}_{d}-1.0.dist-info"
            dist.mkdir(parents=True)
            (dist / "METADATA").write_text(
                f"Metadata-Version: 2.1\nName: pkg-{e}-{d}\nVersion: 1.0\n"
            )
            (dist / "RECORD").write_text(f"mod_{e}_{d}/__init__.py,,\n{dist.name}/METADATA,,\n")
            (site / f"mod_{e}_{d}").mkdir()
        revisions = store.revisions_dir(name)
        revisions.mkdir(parents=True, exist_ok=True)
        (revisions / "0").mkdir()


def naive_scan(svc: UserPkgService, name: str) -> str | None:
    """Baseline: every site-packages read through importlib.metadata, no cache."""
    from jupyter_userpkg.core.importnames import site_dirs, top_level_modules

    dirs = [p for n in svc.store.listing() for p in site_dirs(svc.store.prefix(n))]
    for dist in importlib.metadata.distributions(path=[str(d) for d in dict.fromkeys(dirs)]):
        if name in top_level_modules(dist):
            return str(dist.metadata["Name"])
    return None


def whole_wheel(project: str) -> None:
    """Baseline: the newest wheel downloaded whole, its RECORD read."""
    client = pypiindex.client()
    page = client.get(f"{pypiindex.PYPI_SIMPLE}/{project}/", headers={"Accept": pypiindex._ACCEPT})
    wheel = newest_wheel(page, project)
    assert wheel is not None
    data = client.get(wheel.url).content
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        record = next(n for n in zf.namelist() if n.endswith(".dist-info/RECORD"))
        zf.read(record)


def fresh_client() -> None:
    if pypiindex._client is not None:
        pypiindex._client.close()
    pypiindex._client = None


def through_server(root: Path, runs: int) -> list[tuple[str, list[float]]]:
    """What the notebook waits for: ``GET provides`` of a real server on loopback (one
    keep-alive connection, as a browser tab), warm and with no wheel cache."""
    import shutil

    import httpx

    from tests.serverproc import ServerProcess

    home = root / "server"
    server = ServerProcess(home, {"envs_dir": str(root / "envs"), "default_channels": []})
    server.start()
    try:
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{server.port}/userpkg/api/",
            headers={"Authorization": f"token {server.token}"},
            timeout=60,
        )

        def get(name: str) -> None:
            http.get("provides", params={"name": f"No module named '{name}'"}).raise_for_status()

        get("yaml")
        wheels = Path(os.environ["XDG_CACHE_HOME"]) / "jupyter-userpkg" / "provides" / "wheels"
        return [
            ("REST GET provides, warm (installed)", timed(lambda: get("yaml"), runs)),
            (
                "REST GET provides, no wheel cache (slugify)",
                timed(lambda: get("slugify"), runs, lambda: shutil.rmtree(wheels, True)),
            ),
        ]
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--envs", type=int, default=10)
    parser.add_argument("--dists", type=int, default=60)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-provides-"))
    os.environ["XDG_CACHE_HOME"] = str(root / "cache")
    make_envs(root / "envs", args.envs, args.dists)
    svc = UserPkgService(root / "envs")
    cache = svc.conda.cache_root() / "provides"
    rows: list[tuple[str, list[float]]] = []

    assert svc.provides("yaml").to_dict()["evidence"]["kind"] == "installed"
    rows.append(("warm, server (memory cache)", timed(lambda: svc.provides("yaml"), args.runs)))
    rows.append(
        (
            "warm, new process (disk cache)",
            timed(lambda: svc.provides("yaml"), args.runs, installedimports._memory.clear),
        )
    )
    rows.append(("  baseline: scan, no cache", timed(lambda: naive_scan(svc, "yaml"), args.runs)))

    def cold_reset() -> None:
        import shutil

        shutil.rmtree(cache / "wheels", ignore_errors=True)
        fresh_client()

    for module, project in (("slugify", "python-slugify"), ("pandas", "pandas")):
        found = svc.provides(module).to_dict()
        assert found["package"] == project and found["evidence"]["kind"] == "record", found
        rows.append(
            (
                f"cold, PyPI: {module} -> {project}",
                timed(functools.partial(svc.provides, module), args.runs, cold_reset),
            )
        )
        rows.append(
            (
                f"  baseline: {project} wheel whole",
                timed(
                    functools.partial(whole_wheel, project), max(3, args.runs // 4), fresh_client
                ),
            )
        )

    rows += through_server(root, args.runs)
    print(
        f"provides: error -> offer, {args.runs} runs each ({args.envs} envs x "
        f"{args.dists} distributions + the base)"
    )
    print(f"  {'case':<44} {'p50':>9} {'p95':>9}")
    for label, samples in rows:
        p50, p95 = quantiles(samples)
        print(f"  {label:<44} {p50 * 1000:>7.1f}ms {p95 * 1000:>7.1f}ms")


if __name__ == "__main__":
    main()
