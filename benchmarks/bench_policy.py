"""What the administrator's policy costs a conda plan: 2018 repodata, 1,000 blocked patterns
and a licence rule, plan time with and without the policy, side by side.

Both sides are the conda plan step over the same warm gateway and local ``file://``
channels of ``../shared/data/repodata-2018``: without a policy the engine's
``conda.backend.solve``; with it, that solve inside the policy's one loop
(``policy.within.solve_conda``, as the conda kind plans) and the plan's check of every
record the solve chose (``policy.enforce.check_conda_records``);
bare ``rattler.solve`` is beside them as the floor.  "lock check" is that check for a
lock installed exactly or a rollback, which do not solve: each record is looked up as its
channel serves it.
The policy blocks 1,000 package patterns (900 names of the
repodata that the plans do not use, 100 globs) and allows only the licences these plans'
packages declare (a few records without one are the rule's exceptions), so the plan is
the same with and without it: the difference is the cost of judging every candidate.
A second policy also blocks the newest numpy, so the plan must exclude it and solve once
more (the price of a refused version the solver chose).

Medians of ``--runs`` runs (after one warm-up), alternating the sides within each run.

    python benchmarks/bench_policy.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import rattler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_conda import DATA, PLATFORMS, REQUESTS, Loop

from jupyter_userpkg.core.conda import backend as condabackend
from jupyter_userpkg.core.conda import specs as condaspecs
from jupyter_userpkg.core.options import CondaOptions
from jupyter_userpkg.core.policy import enforce as policyenforce
from jupyter_userpkg.core.policy import within
from jupyter_userpkg.core.policy.rules import Policy, from_data


def names_in(channel: Path) -> list[str]:
    found: set[str] = set()
    for subdir in PLATFORMS:
        data = json.loads((channel / subdir / "repodata.json").read_text())
        found |= {r["name"] for r in data.get("packages", {}).values()}
    return sorted(found)


def make_policy(used: set[str], licences: set[str], extra: dict[str, Any]) -> Policy:
    unused = [
        n for n in names_in(DATA / "defaults-2018") + names_in(DATA / "r-2018") if n not in used
    ]
    blocked: list[Any] = [{"name": n, "reason": "not reviewed"} for n in unused[:900]]
    blocked += [{"name": f"zz-blocked-{i}-*", "reason": "not reviewed"} for i in range(100)]
    rules = {
        "blocked_packages": blocked,
        "allowed_licenses": sorted(licences),
        # 2018's repodata has a few records without a licence (metapackages, a build of
        # numpy-base): the administrator reviewed them apart.
        "license_exceptions": ["blas", "numpy-base", "libxcb", "gst*"],
    }
    return from_data({**rules, **extra}, "bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    loop = Loop()
    work = Path(tempfile.mkdtemp(prefix="bench-policy-"))
    options = CondaOptions(repodata_cache_dir=str(work / "ours"), pkgs_dir=str(work / "pkgs"))
    bare_gw = rattler.Gateway(cache_dir=work / "bare")
    virtual = condabackend.virtual_packages()
    print(f"plan time, warm gateway, 2018 repodata (ms, median of {runs})")
    print(
        f"  {'request':<34} {'pkgs':>4} {'bare':>8} {'no policy':>9} {'policy':>8} {'ratio':>6}"
        f" | {'+ a blocked numpy':>17} {'ratio':>6} | {'lock check':>10}"
    )

    def served(names: list[str], channels: list[str]) -> list[Any]:
        return condabackend.records_of(names, channels, options)

    for label, channels, texts in REQUESTS:
        urls = [c.resolve().as_uri() for c in channels]
        specs = condaspecs.parse_specs(texts, options.channel_alias)
        plain = condabackend.solve(urls, specs, options=options)  # warms the gateway
        used = {r.name.normalized for r in plain}
        licences = {r.license for r in plain if r.license} | {"MIT"}
        policy = make_policy(used, licences, {})
        numpy = next((str(r.version) for r in plain if r.name.normalized == "numpy"), None)
        newest = (
            {"blocked_versions": [{"name": "numpy", "versions": f"=={numpy}", "reason": "bench"}]}
            if numpy
            else {}
        )
        harder = make_policy(used, licences, newest)

        def bare(urls: list[str] = urls, texts: list[str] = texts) -> Any:
            return loop.run(
                rattler.solve(
                    urls, texts, gateway=bare_gw, platforms=PLATFORMS, virtual_packages=virtual
                )
            )

        def ours(p: Policy | None, urls: list[str] = urls, specs: Any = specs) -> Any:
            if p is None:
                return condabackend.solve(urls, specs, options=options)
            # As the conda kind plans: the engine's solve inside the policy's one loop.
            engine = partial(condabackend.solve, urls, specs, options=options)
            sources = condabackend.solve_sources(urls, specs, options)
            records = within.solve_conda(
                p, engine, specs, lambda names: condabackend.records_of(names, sources, options)
            )
            names = {r.name.normalized for r in records}  # the plan's check of what it chose
            policyenforce.check_conda_records(p, records, names, None)
            return records

        def lock_check(p: Policy = policy, records: Any = plain) -> None:
            # A lock installed exactly (or a rollback): no solve, each record looked up.
            names = {r.name.normalized for r in records}
            policyenforce.check_conda_records(p, records, names, served)

        with_policy = ours(policy)
        assert [str(r) for r in with_policy] == [str(r) for r in plain], "the plan changed"
        sides = {
            "bare": bare,
            "none": lambda: ours(None),
            "policy": lambda p=policy: ours(p),
            "harder": lambda p=harder: ours(p),
            "lock": lock_check,
        }
        for fn in sides.values():
            fn()  # warm-up
        times: dict[str, list[float]] = {k: [] for k in sides}
        for _ in range(runs):
            for key, fn in sides.items():
                start = time.perf_counter()
                fn()
                times[key].append(time.perf_counter() - start)
        med = {k: statistics.median(v) * 1000 for k, v in times.items()}
        harder_text = (
            f"{med['harder']:15.1f}ms {med['harder'] / med['none']:5.2f}x"
            if numpy
            else (f"{'(no numpy)':>17} {'':>6}")
        )
        print(
            f"  {label:<34} {len(plain):>4} {med['bare']:7.1f} {med['none']:9.1f}"
            f" {med['policy']:8.1f} {med['policy'] / med['none']:5.2f}x | {harder_text}"
            f" | {med['lock']:8.1f}ms"
        )
    print("  ratio: with the policy / without; target <= 1.3x (the same plan either way)")
    print("  lock check: judging a lock's records as their channels serve them (no solve)")


if __name__ == "__main__":
    main()
