"""Before and after, side by side in one run: the benchmark scripts on an older revision and on
the current tree.

A change that should not cost speed is shown to be free by running the same
benchmarks on both sides within minutes of each other, on the same machine and
its current load.  This makes a temporary ``git worktree`` of ``--before`` (a
detached checkout, removed at the end), then for each selected benchmark runs

* before: ``<worktree>/benchmarks/bench_X.py`` with ``PYTHONPATH=<worktree>``;
* after:  ``<this tree>/benchmarks/bench_X.py`` with ``PYTHONPATH=<this tree>``;

one right after the other, each from its own tree's root (``python -c`` and
``python -m`` in the scripts' subprocesses put the working directory first on
``sys.path``), so each side is self-consistent: its script, its ``tests``
helpers and its ``jupyter_userpkg``.  ``PYTHONPATH`` comes before the editable
install's path, and subprocesses (kernels, the ``jupyter-userpkg`` console
script) inherit it.  Both trees' ``jupyter_userpkg`` is byte-compiled first and
``PYTHONDONTWRITEBYTECODE`` is dropped, so neither side pays for compiling.
A benchmark the older revision does not have yet runs the current script on
both sides (said so in its heading).

Both outputs are printed in full under headings, then a short summary: lines of
the two outputs that are the same but for their figures are paired, and the
first figures that differ (usually the median) are shown side by side.  When
nothing pairs, compare the full outputs.

    python benchmarks/compare_refs.py --before REF [--runs N]
        [--only install,magic,conda,startup,policy,missing] [--extra install=--skip-pip]
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TREE = HERE.parent
BENCHES = ("install", "magic", "conda", "startup")
#: Run only when named in ``--only`` (their before side can take long: ``missing``).
KNOWN = (*BENCHES, "policy", "missing")
#: A figure: a number and, if it has one, its unit.
FIGURE = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:\s?(?:ms|s|x|%|MB)(?![A-Za-z]))?")
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


@dataclass
class Outcome:
    heading: str
    returncode: int
    output: str


def git(*args: str) -> str:
    proc = subprocess.run(["git", "-C", str(TREE), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed:\n{proc.stderr}")
    return proc.stdout.strip()


def run_bench(heading: str, script: Path, tree: Path, args: list[str]) -> Outcome:
    """Run one benchmark script, streaming its output under ``heading``, and keep the output."""
    # Bytecode caches on both sides, as an installed package has: without them
    # every process of one side would compile the package again.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    }
    env["PYTHONPATH"] = str(tree)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(tree / "jupyter_userpkg")],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    argv = [sys.executable, str(script), *args]
    print(f"\n===== {heading}\n$ PYTHONPATH={tree} {shlex.join(argv)}", flush=True)
    proc = subprocess.Popen(
        argv,
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    code = proc.wait()
    if code != 0:
        print(f"===== {heading}: exit status {code}", flush=True)
    return Outcome(heading, code, "".join(lines))


def figures(line: str) -> list[re.Match[str]]:
    """The figures of a line, leaving out targets in brackets (``[<= 1.5x]``)."""
    blanked = re.sub(r"\[[^\]]*\]", lambda m: " " * len(m[0]), line)
    return list(FIGURE.finditer(blanked))


def skeleton(line: str) -> str:
    return re.sub(r"\s+", " ", NUMBER.sub("#", line)).strip()


def pair_figures(before: str, after: str) -> list[tuple[str, list[str], list[str]]]:
    """(label, figures before, after) for lines alike but for their figures.

    The figures are up to three from the first one that differs (median, min, max
    in most of the scripts' lines).
    """
    by_key: dict[str, list[str]] = defaultdict(list)
    for line in before.splitlines():
        if figures(line):
            by_key[skeleton(line)].append(line)
    seen: dict[str, int] = defaultdict(int)
    rows = []
    for line in after.splitlines():
        key = skeleton(line)
        if not figures(line) or seen[key] >= len(by_key.get(key, [])):
            continue
        old = by_key[key][seen[key]]
        seen[key] += 1
        old_figs = figures(old)
        new_figs = figures(line)
        if len(old_figs) != len(new_figs):
            continue
        differ = [
            i for i, (a, b) in enumerate(zip(old_figs, new_figs, strict=True)) if a[0] != b[0]
        ]
        if not differ:
            continue
        label = line[: new_figs[differ[0]].start()].strip(" |:(")
        label = re.sub(r"\s+", " ", label.replace("|", " ")).strip() or key
        shown = range(differ[0], min(differ[0] + 3, len(new_figs)))
        rows.append((label, [old_figs[i][0] for i in shown], [new_figs[i][0] for i in shown]))
    return rows


def ratio(before: str, after: str) -> str:
    a, b = NUMBER.search(before), NUMBER.search(after)
    if a is None or b is None or float(a[0]) == 0:
        return ""
    return f"{float(b[0]) / float(a[0]):.2f}"


def summary(name: str, before: Outcome, after: Outcome) -> None:
    print(
        f"\n--- {name}: before -> after (figures from the first that differs; after/before of it)"
    )
    if before.returncode != 0 or after.returncode != 0:
        print(f"  a side failed (before: {before.returncode}, after: {after.returncode})")
        return
    rows = pair_figures(before.output, after.output)
    if not rows:
        print("  no lines to pair: compare the full outputs above")
        return
    width = min(max(len(r[0]) for r in rows), 60)
    fig_w = max(len(fig) for r in rows for figs in r[1:] for fig in figs)
    cols = max(len(r[1]) for r in rows)

    def cells(figs: list[str]) -> str:
        return " ".join(f"{fig:>{fig_w}}" for fig in figs).ljust(cols * (fig_w + 1) - 1)

    for label, old, new in rows:
        print(
            f"  {label[:width]:<{width}}  {cells(old)}  ->  {cells(new)}"
            f"  {ratio(old[0], new[0]):>5}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision to compare against")
    parser.add_argument("--runs", type=int, help="passed to every script (default: theirs)")
    parser.add_argument(
        "--only", default=",".join(BENCHES), help=f"comma-separated, of {', '.join(KNOWN)}"
    )
    parser.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="BENCH=ARGS",
        help="more arguments for one script, e.g. install=--skip-pip (repeatable)",
    )
    args = parser.parse_args()
    selected = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = sorted(set(selected) - set(KNOWN))
    if unknown:
        raise SystemExit(f"unknown benchmarks: {', '.join(unknown)} (known: {', '.join(KNOWN)})")
    extra: dict[str, list[str]] = defaultdict(list)
    for item in args.extra:
        bench, _, text = item.partition("=")
        extra[bench.strip()].extend(shlex.split(text))
    commit = git("rev-parse", "--verify", f"{args.before}^{{commit}}")
    head = git("rev-parse", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    print(f"before: {args.before} = {commit[:12]}")
    print(f"after:  {TREE} (HEAD {head[:12]}{', with uncommitted changes' if dirty else ''})")

    tmp = Path(tempfile.mkdtemp(prefix="userpkg-compare-"))
    worktree = tmp / "before"
    outcomes: list[tuple[str, Outcome, Outcome]] = []
    try:
        git("worktree", "add", "--detach", str(worktree), commit)
        for name in selected:
            bench_args = ([] if args.runs is None else ["--runs", str(args.runs)]) + extra[name]
            script = f"bench_{name}.py"
            old_script = worktree / "benchmarks" / script
            note = ""
            if not old_script.is_file():
                old_script = HERE / script
                note = f" (no {script} at {commit[:12]}: the current script)"
            before = run_bench(
                f"{name}: BEFORE, {args.before} ({commit[:12]}){note}",
                old_script,
                worktree,
                bench_args,
            )
            after = run_bench(f"{name}: AFTER, {TREE}", HERE / script, TREE, bench_args)
            outcomes.append((name, before, after))
    finally:
        subprocess.run(
            ["git", "-C", str(TREE), "worktree", "remove", "--force", str(worktree)],
            capture_output=True,
        )
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n===== summary: before {args.before} ({commit[:12]}) -> after (this tree)")
    for name, before, after in outcomes:
        summary(name, before, after)
    failed = [name for name, b, a in outcomes if b.returncode or a.returncode]
    if failed:
        raise SystemExit(f"\nfailed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
