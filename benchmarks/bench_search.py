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

3. ``--memory``: a real ``jupyter server`` (with the extension) and its resident
   memory (VmRSS) after its first requests, after a PyPI search and after a conda
   search (the 2018 repodata): each user's server holding the project list and
   repodata names (today), against the administrator's search index of the same
   names (``search_index`` in the policy, one file per node, mapped per search).
   Each server runs in a mount namespace of its own whose administrator's dir
   (``etc/jupyter`` of this environment) is a fresh tmpfs holding only the
   policy measured.  Medians of ``--starts`` server starts; search latency over
   the REST API too.

    python benchmarks/bench_search.py [--runs 20] [--cache DIR] [--memory [--starts 3]]
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


def in_namespace(argv: list[str]) -> None:
    """Inside ``unshare -m``: a fresh tmpfs over the administrator's dir of this
    environment, the policy measured in it (``argv[0]``: JSON, or empty), then exec
    the server (the rest of ``argv``), which keeps this pid."""
    import subprocess

    from jupyter_userpkg.core.policy.admintrust import install_prefix

    prefix = install_prefix()
    assert prefix is not None
    etc = prefix / "etc" / "jupyter"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", str(etc)], check=True)
    if argv[0]:
        (etc / "jupyter_userpkg_policy.json").write_text(argv[0])
    os.execv(argv[1], argv[1:])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def served_rss(
    work: Path, settings: dict[str, object], policy: dict[str, object] | None, runs: int
) -> tuple[list[float], list[float], list[float]]:
    """A server's RSS after its first requests, after a PyPI and after a conda search,
    and the REST search latencies (PyPI then conda queries)."""
    import json
    import sys
    import urllib.request

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.serverproc import ServerProcess

    wrapper = ["unshare", "-m", "--propagation", "private", sys.executable, __file__]
    wrapper += ["--in-namespace", json.dumps(policy) if policy else ""]
    server = ServerProcess(work, dict(settings), wrapper=wrapper)
    server.start()

    def get(path: str) -> float:
        request = urllib.request.Request(
            server.url + path, headers={"Authorization": f"token {server.token}"}
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
        return time.perf_counter() - start

    try:
        pid = server.proc.pid  # type: ignore[union-attr]
        get("envs")
        rss = [rss_mb(pid)]
        get("search?q=numpy&source=pypi")
        rss.append(rss_mb(pid))
        get("search?q=numpy&source=conda")
        rss.append(rss_mb(pid))
        pypi = [get(f"search?q={q}&source=pypi") for _ in range(runs) for q in PYPI_QUERIES]
        conda = [get(f"search?q={q}&source=conda") for _ in range(runs) for q in CONDA_QUERIES]
        return rss, pypi, conda
    finally:
        server.stop()


def bench_memory(work: Path, cache: str | None, runs: int, starts: int) -> None:
    from jupyter_userpkg.commands.seedindex import entries, write
    from jupyter_userpkg.core.mirror.searchindex import render

    search_cache = work / "search"
    if cache:  # a copy: the servers' and the seed's caches stay this run's
        shutil.copytree(cache, search_cache)
    channels = [(DATA / c).as_uri() for c in ("defaults-2018", "r-2018")]
    index = work / "node" / "search-index.tsv"
    index.parent.mkdir(parents=True)
    start = time.perf_counter()
    found = entries(pypiindex.PYPI_SIMPLE, channels, work)
    write(index, render(found))
    print(f"node-wide index: {len(found)} names, {index.stat().st_size / 1e6:.1f} MB, "
          f"written in {time.perf_counter() - start:.1f} s", flush=True)  # fmt: skip
    settings: dict[str, object] = {
        "envs_dir": str(work / "envs"),
        "default_channels": channels,
        "repodata_cache_dir": str(work / "repodata"),
        "conda_pkgs_dir": str(work / "pkgs"),
        "search_cache_dir": str(search_cache),
        "search_ttl": 1e9,
    }
    results: dict[str, list[tuple[list[float], list[float], list[float]]]] = {}
    measured: list[tuple[str, dict[str, object] | None]] = [
        ("project list per server", None),
        ("search index", {"search_index": str(index)}),
    ]
    for name, policy in measured:
        results[name] = [
            served_rss(work / f"home-{i}", settings, policy, max(1, runs // 4))
            for i in range(starts)
        ]
    print(f"\n3. server RSS (median of {starts} starts) and GET search latency")
    print("| | project list per server | administrator's search index |")
    print("| --- | --- | --- |")
    labels = ["after GET envs", "after a first PyPI search", "after a conda search too"]
    a, b = results["project list per server"], results["search index"]
    for i, label in enumerate(labels):
        ra = statistics.median(r[0][i] for r in a)
        rb = statistics.median(r[0][i] for r in b)
        base_a = statistics.median(r[0][0] for r in a)
        base_b = statistics.median(r[0][0] for r in b)
        print(f"| {label} | {ra:.1f} MB (+{ra - base_a:.1f}) | {rb:.1f} MB (+{rb - base_b:.1f}) |")
    for k, what in ((1, "PyPI"), (2, "conda")):
        la = [t for r in a for t in r[k]]
        lb = [t for r in b for t in r[k]]
        print(f"| GET search, {what}: p50 / p95 | {statistics.median(la) * 1e3:.1f} / "
              f"{percentile(la, 0.95) * 1e3:.1f} ms | {statistics.median(lb) * 1e3:.1f} / "
              f"{percentile(lb, 0.95) * 1e3:.1f} ms |")  # fmt: skip
    listed = sum(f.stat().st_size for f in search_cache.rglob("projects.txt"))
    size = index.stat().st_size / 1e6
    print(f"| disk | {listed / 1e6:.1f} MB list per user | {size:.1f} MB per node |")


def main() -> None:
    import sys

    if sys.argv[1:2] == ["--in-namespace"]:
        in_namespace(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cache", help="a search cache dir that already holds PyPI's list")
    parser.add_argument("--memory", action="store_true", help="only the servers' RSS")
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="userpkg-bench-search-"))
    try:
        if args.memory:
            bench_memory(work, args.cache, args.runs, args.starts)
            return
        bench_pypi(work, args.cache, args.runs)
        bench_conda(work, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
