"""The filtered mirror's cost, side by side with a baseline on the same upstream and closure.

* **first sync** of a mirror of ``--packages`` projects (each in 3 versions; four in five
  need the next one, so chains of five), all approved in one seed file, ``keep_latest =
  1``, one Python x platform: ``mirror sync`` (solve the closure with uv, judge, download
  with hashes checked, write PEP 503/691/658 pages, decisions, search index, publish)
  against ``pip download`` of the same requests into a directory (resolve and download
  only: no pages, no policy, no publishing).  Both read a loopback PEP 691 index this
  script serves from a process of its own, both start cold (a fresh output, a fresh cache).
* **no-change re-sync**: ``mirror sync`` again with nothing new upstream (target: 1 s
  for 200 packages), against ``pip download`` again into the full directory.
* **conda filtering**: the 2018 repodata (``../shared/data/repodata-2018``, both channels,
  linux-64 and noarch) judged record by record under a policy of 1,000 blocked package
  patterns (every other name of the repodata among them) and a licence rule, and written
  filtered (what a sync does per subdir), against reading the same files with rattler
  (``RepoData.from_path`` + ``into_repo_data``).
* **disk**: the mirror's files against the baseline's directory.

Medians of ``--runs`` runs.

    python benchmarks/bench_mirror.py [--packages 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jupyter_userpkg.core.mirror.condaclosure import _allowed_channels, read_channel  # noqa: E402
from jupyter_userpkg.core.mirror.config import load_config  # noqa: E402
from jupyter_userpkg.core.mirror.sync import sync  # noqa: E402
from jupyter_userpkg.core.policy.rules import from_data  # noqa: E402
from tests.localindex import build_wheel  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "repodata-2018"
SUBDIRS = ("linux-64", "noarch")


def build_upstream(wheels: Path, count: int) -> list[str]:
    names = [f"bp{i:03d}" for i in range(count)]
    for i, name in enumerate(names):
        needs = [f"{names[i + 1]}>=1.0"] if i % 5 != 4 and i + 1 < count else []
        for version in ("1.0", "1.1", "2.0"):
            build_wheel(wheels, name, version, requires=needs, padding=8_000,
                        license_expression="MIT", uploaded=1.7e9)  # fmt: skip
    return names


@contextlib.contextmanager
def served_index(wheels: Path) -> Iterator[str]:
    """The upstream index in a process of its own (its work is not the measured side's)."""
    code = (
        "import sys; from pathlib import Path; from tests.localindex import LocalIndex\n"
        "with LocalIndex(Path(sys.argv[1]), json=True) as index:\n"
        "    print(index.url, flush=True); sys.stdin.read()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(wheels)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None and proc.stdin is not None
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.stdin.close()
        proc.wait()


def write_config(root: Path, url: str, names: list[str]) -> Path:
    (root / "approved.txt").write_text("\n".join(names) + "\n")
    (root / "policy.json").write_text(json.dumps({"allowed_licenses": ["MIT"]}))
    config = root / "mirror.toml"
    config.write_text(
        f'output = "{root / "out"}"\npolicy = "{root / "policy.json"}"\n'
        f'[pypi]\nupstream = "{url}"\npython = ["3.11"]\nplatforms = ["linux"]\nkeep_latest = 1\n'
        f'[seed]\nrequirements = ["{root / "approved.txt"}"]\n'
    )
    return config


def pip_download(url: str, requirements: Path, dest: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--isolated", "--quiet",
         "--disable-pip-version-check", "--no-cache-dir", "--index-url", url,
         "--dest", str(dest), "-r", str(requirements)],
        check=True,
    )  # fmt: skip


def read_pages(url: str, names: list[str]) -> None:
    import httpx

    with httpx.Client() as client:
        for name in names:
            client.get(f"{url}/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def conda_policy() -> Any:
    """900 blocked names (every other name of the repodata, the rest names it lacks), 100
    globs, a licence rule."""
    names = sorted(
        {
            r["name"]
            for d in DATA.iterdir() if d.is_dir()
            for s in SUBDIRS
            for r in json.loads((d / s / "repodata.json").read_text())["packages"].values()
        }
    )  # fmt: skip
    chosen = names[1::2][:900]
    chosen += [f"zz-not-used-{i}" for i in range(900 - len(chosen))]
    blocked: list[Any] = [{"name": n, "reason": "review"} for n in chosen]
    blocked += [{"name": f"zz-glob-{i}-*", "reason": "review"} for i in range(100)]
    return from_data({"blocked_packages": blocked, "allowed_licenses": ["BSD-3-Clause"],
                      "license_exceptions": ["*"]}, "bench")  # fmt: skip


def filter_repodata(tmp: Path, policy: Any) -> None:
    policy.memo.clear()  # judged afresh each run
    channels = [read_channel(d.as_uri(), SUBDIRS) for d in sorted(DATA.iterdir()) if d.is_dir()]
    _allowed_channels(channels, policy, tmp)


def read_with_rattler() -> None:
    import rattler

    for channel in sorted(d for d in DATA.iterdir() if d.is_dir()):
        for subdir in SUBDIRS:
            data = rattler.RepoData.from_path(channel / subdir / "repodata.json")
            data.into_repo_data(rattler.Channel(channel.as_uri()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    keys = ("first sync", "no-change re-sync", "conda filter, 1,000 rules")
    rows: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in keys}
    floor: list[float] = []
    disk = (0, 0)
    with tempfile.TemporaryDirectory(prefix="bench-mirror-") as tmp_text:
        tmp = Path(tmp_text)
        (tmp / "wheels").mkdir()
        names = build_upstream(tmp / "wheels", args.packages)
        with served_index(tmp / "wheels") as url:
            for run in range(args.runs):
                root = tmp / f"run{run}"
                root.mkdir()
                config = load_config(write_config(root, url, names))
                dest = root / "pip"
                baseline = functools.partial(pip_download, url, root / "approved.txt", dest)
                first = timed(functools.partial(sync, config))
                base = timed(baseline)
                rows["first sync"][0].append(first)
                rows["first sync"][1].append(base)
                again = timed(functools.partial(sync, config))
                base_again = timed(baseline)
                rows["no-change re-sync"][0].append(again)
                rows["no-change re-sync"][1].append(base_again)
                disk = (size(config.output / "current"), size(dest))
                floor.append(timed(functools.partial(read_pages, url, names)))
                shutil.rmtree(root)
        policy = conda_policy()
        for run in range(args.runs):
            out = tmp / f"conda{run}"
            rows["conda filter, 1,000 rules"][0].append(
                timed(functools.partial(filter_repodata, out, policy))
            )
            rows["conda filter, 1,000 rules"][1].append(timed(read_with_rattler))
    print(f"{args.packages} packages, {args.runs} runs (medians, seconds)")
    print(f"{'':28} {'mirror':>9} {'baseline':>9} {'ratio':>7}  baseline")
    what = {"first sync": "pip download", "no-change re-sync": "pip download again",
            "conda filter, 1,000 rules": "rattler reads it"}  # fmt: skip
    for key, (ours, theirs) in rows.items():
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"{key:28} {a:9.3f} {b:9.3f} {a / b:6.2f}x  {what[key]}")
    print(f"{'(every page read once)':28} {statistics.median(floor):9.3f} {'':9} {'':7}  "
          "the upstream's share of a re-sync: its project pages, one by one")  # fmt: skip
    print(f"{'disk (MB)':28} {disk[0] / 1e6:9.1f} {disk[1] / 1e6:9.1f} {disk[0] / disk[1]:6.2f}x  "
          "pip's directory (the mirror adds pages and metadata)")  # fmt: skip


if __name__ == "__main__":
    main()
