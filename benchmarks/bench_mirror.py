"""The filtered mirror's cost, side by side with baselines on the same upstream and closure.

* **first sync** of a mirror of ``--packages`` projects (each in 3 versions; four in five
  need the next one, so chains of five), all approved in one seed file, ``keep_latest =
  1``, one Python x platform: ``jupyter userpkg mirror sync`` (solve the closure with uv,
  judge, download with hashes checked, write PEP 503/691/658 pages, decisions, search
  index, publish) against ``pip download`` of the same requests into a directory
  (resolve and download only: no pages, no policy, no publishing) and against
  **bandersnatch** with an allowlist of the same closure (each name pinned to the
  version the closure holds: the same files; it mirrors, it does not resolve).  All
  three read one loopback upstream this script serves from a process of its own (PEP
  503/691 pages with ETags; for bandersnatch, PyPI's JSON API and serials over the same
  wheels, ``pypijson.py``), all start cold, all are whole processes.
* **no-change re-sync**: each again with nothing new upstream (target: 1 s for 200
  packages), ours also in process (without the interpreter's start and imports).
* **conda filtering**: the 2018 repodata (``../shared/data/repodata-2018``, both channels,
  linux-64 and noarch) judged record by record under a policy of 1,000 blocked package
  patterns (every other name of the repodata among them) and a licence rule, and written
  filtered (what a sync does per subdir), against reading the same files with rattler
  (``RepoData.from_path`` + ``into_repo_data``).
* **disk**: the mirror's output directory (the snapshot, its store, kept pages and
  solves) against the packages ``--users`` users' envs installed from it (each a venv
  with 20 of the names, chains and all, from the served mirror by uv, each user with a
  cache of their own), and against pip's and bandersnatch's directories.

Medians of ``--runs`` runs.

    python benchmarks/bench_mirror.py [--packages 200] [--runs 3] [--users 10]
        [--bandersnatch /tmp/bandersnatch-venv/bin/bandersnatch]

bandersnatch is not a dependency of this project: ``python -m venv
/tmp/bandersnatch-venv && /tmp/bandersnatch-venv/bin/pip install bandersnatch``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import http.server
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
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
def served_index(wheels: Path) -> Iterator[tuple[str, str]]:
    """The upstream in a process of its own (its work is not the measured side's): the
    simple index, and PyPI's JSON API over the same wheels."""
    code = (
        "import sys; from pathlib import Path; from tests.localindex import LocalIndex\n"
        "sys.path.insert(0, 'benchmarks'); from pypijson import JsonApi\n"
        "with LocalIndex(Path(sys.argv[1]), json=True, etags=True) as index, "
        "JsonApi(Path(sys.argv[1])) as api:\n"
        "    print(index.url, api.url, flush=True); sys.stdin.read()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(wheels)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None and proc.stdin is not None
    try:
        simple, api = proc.stdout.readline().split()
        yield simple, api
    finally:
        proc.stdin.close()
        proc.wait()


@contextlib.contextmanager
def served_dir(directory: Path) -> Iterator[str]:
    """``directory`` on loopback, as ``python -m http.server`` serves it."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


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


def mirror_cli(config: Path) -> None:
    argv = [sys.executable, "-m", "jupyter_userpkg", "mirror", "sync", "--config", str(config)]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)


def pip_download(url: str, requirements: Path, dest: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--isolated", "--quiet",
         "--disable-pip-version-check", "--no-cache-dir", "--index-url", url,
         "--dest", str(dest), "-r", str(requirements)],
        check=True,
    )  # fmt: skip


def bandersnatch_config(root: Path, api: str, pins: list[str]) -> Path:
    """An allowlist of the closure's names, each pinned to the version the mirror holds."""
    lines = "".join(f"    {pin}\n" for pin in pins)
    config = root / "bandersnatch.conf"
    config.write_text(
        f"[mirror]\ndirectory = {root / 'bandersnatch'}\nmaster = {api}\n"
        "allow-non-https = true\napi-method = simple\njson = false\nrelease-files = true\n"
        "hash-index = false\nworkers = 3\ntimeout = 10\nglobal-timeout = 1800\n"
        "stop-on-error = true\n\n[plugins]\nenabled =\n    allowlist_project\n"
        f"    allowlist_release\n\n[allowlist]\npackages =\n{lines}"
    )
    return config


def bandersnatch(binary: str, config: Path) -> None:
    subprocess.run([binary, "--config", str(config), "mirror"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def closure_pins(output: Path) -> list[str]:
    entries = json.loads((output / "current" / "snapshot.json").read_text())["entries"]
    return sorted(f"{e['name']}=={e['version']}" for e in entries.values())


def users_envs(tmp: Path, index: str, names: list[str], users: int) -> Path:
    """``users`` venvs, each with 20 of the names (and their chains) installed from the
    served mirror by uv, each user with a uv cache of their own."""
    from jupyter_userpkg.core.pypi.uv import uv_bin

    rng = random.Random(20)
    homes = tmp / "homes"
    for user in range(users):
        env = homes / f"user{user}" / "env"
        run = functools.partial(subprocess.run, check=True, capture_output=True)
        run([uv_bin(), "venv", "--no-config", "--python", sys.executable, str(env)])
        run([uv_bin(), "pip", "install", "--no-config", "--python", str(env / "bin" / "python"),
             "--index-url", index, "--cache-dir", str(homes / f"user{user}" / "cache"),
             *rng.sample(names, 20)])  # fmt: skip
    return homes


def env_packages(homes: Path) -> int:
    """What the users' envs' installed distributions take on disk (their files, RECORD)."""
    total = 0
    for record in homes.glob("*/env/lib/python*/site-packages/*.dist-info/RECORD"):
        site = record.parent.parent
        for line in record.read_text().splitlines():
            path = site / line.split(",")[0]
            if path.is_file():
                total += path.stat().st_blocks * 512
    return total


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def disk(path: Path) -> int:
    """Bytes on disk under ``path``, each file once (hard links share their blocks)."""
    seen: set[int] = set()
    total = 0
    for p in path.rglob("*"):
        st = p.lstat()
        if p.is_file() and not p.is_symlink() and st.st_ino not in seen:
            seen.add(st.st_ino)
            total += st.st_blocks * 512
    return total


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


Rows = dict[str, list[float]]


def one_run(
    root: Path, urls: tuple[str, str], names: list[str], binary: str | None, rows: Rows
) -> Path:
    """The three clients' first syncs, then their no-change re-syncs; the config's path."""
    config_path = write_config(root, urls[0], names)
    config = load_config(config_path)
    pip = functools.partial(pip_download, urls[0], root / "approved.txt", root / "pip")
    rows["first mirror"].append(timed(functools.partial(mirror_cli, config_path)))
    rows["first pip"].append(timed(pip))
    snatch = None
    if binary:
        conf = bandersnatch_config(root, urls[1], closure_pins(config.output))
        snatch = functools.partial(bandersnatch, binary, conf)
        rows["first bandersnatch"].append(timed(snatch))
    rows["again mirror"].append(timed(functools.partial(mirror_cli, config_path)))
    rows["again in process"].append(timed(functools.partial(sync, config)))
    rows["again pip"].append(timed(pip))
    if snatch is not None:
        rows["again bandersnatch"].append(timed(snatch))
    return config_path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--bandersnatch", default="/tmp/bandersnatch-venv/bin/bandersnatch")
    args = parser.parse_args()
    binary = args.bandersnatch if Path(args.bandersnatch).is_file() else None
    rows: Rows = collections.defaultdict(list)
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-mirror-") as tmp_text:
        tmp = Path(tmp_text)
        (tmp / "wheels").mkdir()
        names = build_upstream(tmp / "wheels", args.packages)
        with served_index(tmp / "wheels") as urls:
            for run in range(args.runs):
                root = tmp / f"run{run}"
                root.mkdir()
                config = load_config(one_run(root, urls, names, binary, rows))
                if run == 0:
                    with served_dir(config.output / "current") as url:
                        homes = users_envs(root, f"{url}/pypi/simple", names, args.users)
                    sizes = {"mirror": disk(config.output), "envs": env_packages(homes),
                             "pip": disk(root / "pip"),
                             "bandersnatch": disk(root / "bandersnatch")}  # fmt: skip
                shutil.rmtree(root)
        policy = conda_policy()
        for run in range(args.runs):
            rows["conda ours"].append(
                timed(functools.partial(filter_repodata, tmp / f"c{run}", policy))
            )
            rows["conda rattler"].append(timed(read_with_rattler))
    report(args, rows, sizes, binary)


def report(args: argparse.Namespace, rows: Rows, sizes: dict[str, int], binary: str | None) -> None:
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"{args.packages} packages, {args.runs} runs (medians, seconds; whole processes)")
    heads = f"{'mirror':>8} {'pip download':>13} {'bandersnatch':>13} {'/pip':>6} {'/bander':>8}"
    print(f"{'':22} {heads}")
    for key, label in (("first", "first sync"), ("again", "no-change re-sync")):
        ours, pip = med[f"{key} mirror"], med[f"{key} pip"]
        snatch = med.get(f"{key} bandersnatch")
        them = f"{snatch:13.3f}" if snatch else f"{'(not run)':>13}"
        vs = f"{ours / snatch:7.2f}x" if snatch else ""
        print(f"{label:22} {ours:8.3f} {pip:13.3f} {them} {ours / pip:5.2f}x {vs}")
    inproc = med["again in process"]
    print(f"{'re-sync, in process':22} {inproc:8.3f}   (target <= 1 s for 200 packages)")
    ours, theirs = med["conda ours"], med["conda rattler"]
    print(f"conda filter, 1,000 rules: {ours:.3f} s vs rattler reads it {theirs:.3f} s: "
          f"{ours / theirs:.2f}x (target <= 2x)")  # fmt: skip
    mb = {k: v / 1e6 for k, v in sizes.items()}
    print(f"disk (MB): mirror {mb['mirror']:.1f}, the packages of {args.users} users' envs "
          f"{mb['envs']:.1f} ({mb['mirror'] / mb['envs']:.2f}x), pip's directory "
          f"{mb['pip']:.1f}, bandersnatch's {mb['bandersnatch']:.1f}")  # fmt: skip
    if binary is None:
        print("bandersnatch not run: install it into a venv and pass --bandersnatch PATH")


if __name__ == "__main__":
    main()
