"""Search speed: ranked name matching in process, against a plain Python scan.

1. PyPI: the real project list of PyPI (about a million names), fetched once
   through the search cache (``core.pypiindex``) into a temporary directory,
   or read from ``--cache DIR`` (a ``UserPkg.search_cache_dir`` that holds it).
   Timed after warm-up, per query:

   * ``match``: the ranking alone (``NameIndex.match``: exact, prefix,
     normalised substring, first 50), what every search pays;
   * ``search()``: ``UserPkgService.search(q, source="pypi")`` with warm
     caches (the list in memory, the details of the hits on disk): ranking,
     freshness checks and reading the hits' cached details;
   * baseline: ``[n for n in names if q in n]`` over a Python list of the
     normalised names (no ranking, no limit).

   Also the one-time cost of a process's first search: reading the cached list
   from disk into memory.
2. conda: the names of the real 2018 repodata (``../shared/data/repodata-2018``,
   defaults and r, as ``file://`` channels) through ``UserPkgService.search(q,
   source="conda")`` (the engine's gateway: names, then the hits' versions)
   and ``NameIndex.match`` alone, against the same baseline.

Every query runs ``--runs`` times after an untimed warm-up; p50 and p95 are
over all runs of all queries, with min and max.  Ratios are of p50s.

    python benchmarks/bench_search.py [--runs 20] [--cache DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from jupyter_userpkg.core.namematch import NameIndex
from jupyter_userpkg.core.options import CondaOptions, SearchOptions
from jupyter_userpkg.core.pypi import index as pypiindex
from jupyter_userpkg.core.service import UserPkgService

#: Real 2018 conda repodata, beside the checkout (``../shared``); JUPYTER_USERPKG_REPODATA_2018
#: points elsewhere.
DATA = Path(
    os.environ.get("JUPYTER_USERPKG_REPODATA_2018")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "repodata-2018"
)
#: Common names, prefixes, short fragments, separators to normalise, and a miss.
PYPI_QUERIES = [
    "numpy",
    "requests",
    "Scikit_Learn",
    "django-rest",
    "tabulate",
    "py",
    "a",
    "jupyter",
    "flask.cors",
    "zzzqqqxv",
]
CONDA_QUERIES = ["numpy", "python", "r-base", "py", "ggplot", "Scikit_Learn", "lib", "zzzqqqxv"]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[str], object], queries: list[str], runs: int) -> list[float]:
    for q in queries:  # warm-up, untimed
        fn(q)
    samples = []
    for _ in range(runs):
        for q in queries:
            start = time.perf_counter()
            fn(q)
            samples.append(time.perf_counter() - start)
    return samples


def row(label: str, samples: list[float], base: list[float] | None) -> str:
    p50 = statistics.median(samples)
    ratio = f"{p50 / statistics.median(base):.3f}x" if base else "baseline"
    return (
        f"| {label} | {p50 * 1e3:.2f} | {percentile(samples, 0.95) * 1e3:.2f}"
        f" | {min(samples) * 1e3:.2f} | {max(samples) * 1e3:.2f} | {ratio} |"
    )


def table(title: str, rows: list[str]) -> None:
    print(f"\n{title}")
    print("| step | p50 ms | p95 ms | min ms | max ms | ratio (p50) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for line in rows:
        print(line)


def bench_pypi(work: Path, cache: str | None, runs: int) -> None:
    options = SearchOptions(cache_dir=cache or str(work / "search"), list_ttl=1e9, info_ttl=1e9)
    conda = CondaOptions(default_channels=(), repodata_cache_dir=str(work / "repodata"))
    svc = UserPkgService(work / "envs", conda_options=conda, search_options=options)
    index = pypiindex.PypiIndex(pypiindex.PYPI_SIMPLE, options)
    start = time.perf_counter()
    listing = index.projects()  # fetched from PyPI when the cache does not hold it
    print(f"PyPI project list ready in {time.perf_counter() - start:.2f} s", flush=True)
    loads = []
    for _ in range(5):
        pypiindex._lists.clear()  # as a new process: the list from disk into memory
        start = time.perf_counter()
        index.projects()
        loads.append(time.perf_counter() - start)
    names = listing.names
    plain = [line for line in names.keys.split("\n") if line]
    print(f"{len(plain)} names; warming the details of the hits...", flush=True)
    for q in PYPI_QUERIES:  # fills the details cache of the hits it shows (network)
        svc.search(q, source="pypi")
    match = timed(lambda q: names.match(q, 50), PYPI_QUERIES, runs)
    search = timed(lambda q: svc.search(q, source="pypi"), PYPI_QUERIES, runs)
    lowered = [q.lower() for q in PYPI_QUERIES]
    base = timed(lambda q: [n for n in plain if q in n], lowered, max(1, runs // 4))
    table(
        f"1. PyPI, {len(plain)} names, {len(PYPI_QUERIES)} queries x {runs} runs (in process)",
        [
            row("`NameIndex.match` (ranked, first 50)", match, base),
            row("`search(q, source='pypi')`, warm caches", search, base),
            row("baseline `[n for n in names if q in n]`", base, None),
            row("first search of a process: cached list read from disk", loads, base),
        ],
    )


def bench_conda(work: Path, runs: int) -> None:
    channels = tuple((DATA / c).as_uri() for c in ("defaults-2018", "r-2018"))
    conda = CondaOptions(default_channels=channels, repodata_cache_dir=str(work / "repodata"))
    svc = UserPkgService(
        work / "envs",
        conda_options=conda,
        search_options=SearchOptions(cache_dir=str(work / "search")),
    )
    svc.search("numpy", source="conda")
    from jupyter_userpkg.core.conda import backend as condabackend

    plain = sorted(condabackend.query_names(channels, conda))
    names = NameIndex.build(plain)
    match = timed(lambda q: names.match(q, 50), CONDA_QUERIES, runs)
    search = timed(lambda q: svc.search(q, source="conda"), CONDA_QUERIES, runs)
    lowered = [q.lower() for q in CONDA_QUERIES]
    base = timed(lambda q: [n for n in plain if q in n], lowered, runs)
    table(
        f"2. conda 2018 repodata (defaults + r), {len(plain)} names, "
        f"{len(CONDA_QUERIES)} queries x {runs} runs",
        [
            row("`NameIndex.match` (ranked, first 50)", match, base),
            row("`search(q, source='conda')` (names + versions of the hits)", search, base),
            row("baseline `[n for n in names if q in n]`", base, None),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cache", help="a search cache dir that already holds PyPI's list")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="userpkg-bench-search-"))
    try:
        bench_pypi(work, args.cache, args.runs)
        bench_conda(work, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
