"""What an install of names the index lacks costs the index: requests and seconds.

A loopback index (the tests' :class:`tests.localindex.LocalIndex`, one wheel) counts
every request; a venv env asks it for one name it has and N it lacks, through the core
API (the same pipeline as the CLI), and must fail with every missing name in one error.
Before the names were looked up once each, every missing name cost a solve that asked
the index about all the others again (quadratic: 150 names made 13,362 requests to an
administrator's index).

Medians of ``--runs`` runs per N.  Before and after side by side:
``python benchmarks/compare_refs.py --before REF --only missing``.

    python benchmarks/bench_missing.py [--runs 3] [--names 60,150]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from jupyter_userpkg.core.errors import PackageNotFound
from jupyter_userpkg.core.options import UvOptions
from jupyter_userpkg.core.service import UserPkgService
from tests.localindex import LocalIndex, build_wheel


def one_run(index: LocalIndex, work: Path, count: int) -> tuple[int, float]:
    """(requests to the index, seconds) of one failed install of ``count`` missing names."""
    svc = UserPkgService(
        work / "envs",
        base_python=sys.executable,
        lock_timeout=600,
        kernels_dir=work / "kernels",
        uv_options=UvOptions(cache_dir=str(work / "uv-cache"), default_index=index.url),
    )
    svc.create("m", kind="venv", kernel=False)
    missing = [f"absent-{i:04d}" for i in range(count)]
    index.requests.clear()
    start = time.perf_counter()
    try:
        svc.change("m", install=["here", *missing])
    except PackageNotFound as exc:
        named = exc.message.rpartition(": ")[2].split(", ")
        if sorted(named) != missing:
            raise SystemExit(f"the error names {len(named)} of the {count} missing names") from None
    else:
        raise SystemExit("the install of missing names succeeded")
    return len(index.requests), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--names", default="60,150", help="comma-separated counts of names")
    args = parser.parse_args()
    counts = [int(n) for n in args.names.split(",") if n.strip()]
    root = Path(tempfile.mkdtemp(prefix="bench-missing-"))
    wheels = root / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "here", "1.0")
    print(f"install of N missing names (+ 1 present): median of {args.runs} runs")
    print(f"  {'names':>6} {'requests':>9} {'per name':>9} {'seconds':>8}")
    with LocalIndex(wheels) as index:
        for count in counts:
            results = [one_run(index, root / f"n{count}-r{run}", count) for run in range(args.runs)]
            asked = statistics.median(r[0] for r in results)
            seconds = statistics.median(r[1] for r in results)
            print(f"  {count:>6} {asked:>9.0f} {asked / count:>9.1f} {seconds:>7.1f}s")


if __name__ == "__main__":
    main()
