"""A server's own work for one ``GET envs`` at 300 envs, in process, with and without shared envs.

What a request costs the server beyond the listing's checks is what it makes of the
listing: the command's dicts and the JSON the handler sends.  Both are kept while the
listing is the same list (``core/listing.py``, ``core/shared.py``), also where an
administrator shares envs (``UserPkg.shared_envs_dirs``).  This times, as CPU time of
the process, ``dispatch(svc, Envs())`` and the handler's kept-JSON step (the same
identity check as ``server/handlers.py``), after a first call that read every env:

- 300 envs of the user's own (each a committed revision of 40 packages, made through
  the store as a commit does; no venv: only metadata is read);
- the same with a shared envs dir of 20 envs.

``--tree`` runs the same in another checkout's ``jupyter_userpkg`` (an older
revision), the two sides alternating ``--runs`` times, each a fresh process.

    python benchmarks/bench_envs_request.py [--tree ../old-checkout] [--runs 3] [--calls 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MANIFEST = '[env]\nname = "{name}"\nkind = "venv"\npython = "3.11"\n'
PACKAGE = '[[packages]]\nname = "p{i}"\nversion = "1.0"\n'


def make(directory: Path, names: list[str]) -> None:
    """Commit revision 0 of each env (kept between runs: the same envs for both sides)."""
    from jupyter_userpkg.core.records import RevisionRecord
    from jupyter_userpkg.core.store import EnvStore

    store = EnvStore(directory)
    lock = 'lock-version = "1.0"\n' + "".join(PACKAGE.format(i=i) for i in range(40))
    for name in names:
        if not (directory / name).exists():
            record = RevisionRecord(0, "now", "create " + name, ())
            store.commit(name, MANIFEST.format(name=name), lock, record)


def measure(root: Path, calls: int) -> dict[str, float]:
    """Median CPU ms of one request's work, own envs only and with a shared dir."""
    from jupyter_userpkg.commands.dispatch import dispatch
    from jupyter_userpkg.commands.verbs import Envs
    from jupyter_userpkg.core import shared
    from jupyter_userpkg.core.service import UserPkgService

    out = {}
    for label, dirs in (("own 300", ()), ("own 300 + shared 20", (root / "shared",))):
        svc = UserPkgService(
            root / "own", kernels_dir=root / "kernels", shared_envs=shared.Shared(dirs)
        )
        dispatch(svc, Envs())  # the first call reads every env
        kept: tuple[object, str] | None = None
        times = []
        for _ in range(calls):
            start = time.process_time()
            outcome = dispatch(svc, Envs())
            if kept is None or kept[0] is not outcome.value:
                kept = (outcome.value, json.dumps(outcome.data))
            times.append(time.process_time() - start)
        out[label] = statistics.median(times) * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, help="another checkout to compare with")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # one side's process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.calls)))
        return
    here = Path(__file__).resolve().parents[1]
    trees = {"this tree": here, **({str(args.tree): args.tree.resolve()} if args.tree else {})}
    with tempfile.TemporaryDirectory(prefix="bench-envs-request-") as tmp:
        root = Path(tmp)
        make(root / "own", [f"e{i:03}" for i in range(300)])
        make(root / "shared", [f"s{i:02}" for i in range(20)])
        results: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
        for _ in range(args.runs):
            for label, tree in trees.items():
                env = {**os.environ, "PYTHONPATH": str(tree)}
                argv = [sys.executable, __file__, "--measure", str(root), "--calls"]
                proc = subprocess.run(
                    [*argv, str(args.calls)], env=env, cwd=tree, capture_output=True, text=True
                )
                if proc.returncode != 0:
                    raise SystemExit(f"{label} failed:\n{proc.stderr}")
                results[label].append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"CPU per GET envs (median of {args.calls} calls; runs: {args.runs}, alternating)")
        for label, runs in results.items():
            cells = [
                f"{key}: " + " / ".join(f"{run[key]:.2f}" for run in runs) + " ms"
                for key in runs[0]
            ]
            print(f"  {label[-28:]:<28} " + "; ".join(cells))


if __name__ == "__main__":
    main()
