"""The Packages panel with a 1,000-package env, in chromium, against a real server.

A local index serves 1,001 tiny wheels: ``bench-pkg-0000`` ... ``bench-pkg-0999``
and ``bench-all``, which depends on the first 999 of them. The env ``big`` (a
venv without a kernel) asks for ``bench-all``: 1,000 packages, one asked for;
``small`` asks for ``bench-pkg-0999`` alone. JupyterLab (this checkout's lab
extension, as ``jlpm build`` last built it) runs in Debian's chromium through
Playwright, the panel open with its dependencies shown, so that every row
renders.

Measured in the page, from the user's action to the frame where the list shows
what it should (``requestAnimationFrame`` after the DOM holds the rows):

- *list*: switching from ``small`` to ``big`` until its 1,000 rows show (the
  packages are read from the server each time);
- *filter*: a keystroke in the filter (``bench-pkg-01`` + a digit) until the
  10 rows it leaves show;
- *search*: a keystroke in the search box (warm: the index's names and the
  hits' details cached) until the result it completes shows first.

p50 and p95 over ``--runs`` runs each, and the page's JS heap after them.
Targets: list <= 300 ms, filter <= 50 ms, search <= 200 ms.

    pip install playwright   # the driver; the browser is /usr/bin/chromium
    python benchmarks/bench_panel.py [--runs 20]
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
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.localindex import LocalIndex, build_wheel  # noqa: E402
from tests.serverproc import free_port  # noqa: E402

COUNT = 1000
TOKEN = "userpkg-bench-token"
PANEL = "jupyter-userpkg-panel"
TARGETS = {"list": 300.0, "filter": 50.0, "search": 200.0}


def wheels(directory: Path) -> None:
    """1,000 tiny packages and one that needs 999 of them."""
    directory.mkdir(parents=True, exist_ok=True)
    names = [f"bench_pkg_{i:04d}" for i in range(COUNT)]
    for name in names:
        build_wheel(directory, name, "1.0")
    build_wheel(directory, "bench_all", "1.0", requires=[n.replace("_", "-") for n in names[:-1]])


class Server:
    """JupyterLab with the extension on a loopback port, its settings under ``home``."""

    def __init__(self, home: Path, settings: dict[str, Any]) -> None:
        self.home = home
        self.port = free_port()
        linked = home / "labextensions"
        linked.mkdir(parents=True, exist_ok=True)
        link = linked / "jupyter-userpkg"
        if not link.exists():
            link.symlink_to(ROOT / "jupyter_userpkg" / "labextension", target_is_directory=True)
        config = home / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "jupyter_server_config.json").write_text(
            json.dumps(
                {
                    "ServerApp": {
                        "jpserver_extensions": {"jupyterlab": True, "jupyter_userpkg": True},
                        "token": TOKEN,
                        "open_browser": False,
                        "allow_root": True,
                    },
                    "LabServerApp": {"extra_labextensions_path": [str(linked)]},
                    "UserPkg": settings,
                }
            )
        )
        self.env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.home / "server.log", "ab")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                f"--port={self.port}",
                "--ip=127.0.0.1",
                f"--ServerApp.root_dir={self.home}",
            ],
            cwd=self.home,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                self.request("GET", "/api/status")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        raise SystemExit("the server did not start: see " + str(self.home / "server.log"))

    def request(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read() or b"null")

    def create(self, name: str, specs: list[str]) -> None:
        job = self.request(
            "POST",
            "/userpkg/api/envs",
            {"name": name, "kind": "venv", "specs": specs, "kernel": False},
        )
        while job["state"] in ("queued", "running"):
            time.sleep(0.5)
            job = self.request("GET", f"/userpkg/api/jobs/{job['id']}")
        if job["state"] != "succeeded":
            raise SystemExit(f"creating {name} failed: {job['error']}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


# In the page: time from an action to the frame after the list shows what it should.
_MEASURE = """
async ([action, selector, expected, first]) => {
  const panel = document.getElementById('jupyter-userpkg-panel');
  const done = () => {
    const rows = panel.querySelectorAll(selector);
    if (rows.length !== expected) return false;
    const norm = s => (s || '').toLowerCase().replace(/[-_.]+/g, '-');
    return !first || norm(rows[0].getAttribute('data-package')) === norm(first);
  };
  const start = performance.now();
  await (async () => {
    const input = (sel, value) => {
      const el = panel.querySelector(sel);
      const set = Object.getOwnPropertyDescriptor(
        el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype,
        'value'
      ).set;
      set.call(el, value);
      const type = el instanceof HTMLSelectElement ? 'change' : 'input';
      el.dispatchEvent(new Event(type, { bubbles: true }));
    };
    input(action[0], action[1]);
  })();
  while (!done()) {
    await new Promise(r => setTimeout(r, 1));
    if (performance.now() - start > 30000) throw new Error('timed out: ' + selector);
  }
  await new Promise(r => requestAnimationFrame(() => r(null)));
  return performance.now() - start;
}
"""

ROWS = ".jp-userpkg-packages .jp-userpkg-package-row"
HITS = ".jp-userpkg-search-results .jp-userpkg-search-result"


def quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def measure(server: Server, runs: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {"list": [], "filter": [], "search": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"http://127.0.0.1:{server.port}/lab?token={TOKEN}")
        page.locator(f'.jp-SideBar [data-id="{PANEL}"]').click()
        panel = page.locator(f"#{PANEL}")
        env = panel.locator("select.jp-userpkg-env-select")
        env.select_option("big")
        panel.locator("input.jp-userpkg-show-dependencies").check()
        panel.locator(ROWS).nth(COUNT - 1).wait_for()
        select = "select.jp-userpkg-env-select"
        for _ in range(runs):
            page.evaluate(_MEASURE, [[select, "small"], ROWS, 1, "bench-pkg-0999"])
            times["list"].append(page.evaluate(_MEASURE, [[select, "big"], ROWS, COUNT, None]))
        for i in range(runs):
            digit = str(i % 10)
            box = "input.jp-userpkg-filter"
            page.evaluate(_MEASURE, [[box, "bench-pkg-01"], ROWS, 100, None])
            times["filter"].append(
                page.evaluate(_MEASURE, [[box, f"bench-pkg-01{digit}"], ROWS, 10, None])
            )
        panel.locator('.jp-userpkg-tab[data-tab="search"]').click()
        box = "input.jp-userpkg-search"
        for i in range(runs + 1):  # the first one warms the caches
            name = f"bench_pkg_{(i * 37) % COUNT:04d}"
            page.evaluate(_MEASURE, [[box, "zz"], HITS, 0, None])
            took = page.evaluate(_MEASURE, [[box, name.replace("_", "-")], HITS, 1, name])
            if i:
                times["search"].append(took)
        heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
        times["heap_mb"] = [heap / 1e6]
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-panel-") as tmp:
        home = Path(tmp)
        wheels(home / "wheels")
        with LocalIndex(home / "wheels", json=True) as index:
            times = run(home, index.url, args.runs)
    print(f"{'':8} {'p50 ms':>8} {'p95 ms':>8} {'target':>8}")
    for what, target in TARGETS.items():
        p50, p95 = quantiles(times[what])
        print(f"{what:8} {p50:8.1f} {p95:8.1f} {target:8.0f}{'' if p95 <= target else '  over'}")
    print(f"JS heap after the runs: {times['heap_mb'][0]:.1f} MB")


def run(home: Path, index_url: str, runs: int) -> dict[str, list[float]]:
    """Make the two envs through a real server, then measure the panel in chromium."""
    root = home / "userpkg"
    settings = {
        "envs_dir": str(root / "envs"),
        "kernels_dir": str(root / "kernels"),
        "uv_cache_dir": str(root / "uv-cache"),
        "search_cache_dir": str(root / "search-cache"),
        "default_index": index_url,
        "default_channels": [],
    }
    server = Server(home, settings)
    server.start()
    try:
        started = time.monotonic()
        server.create("big", ["bench-all"])
        server.create("small", ["bench-pkg-0999"])
        print(f"envs made in {time.monotonic() - started:.1f} s (1,000 and 1 packages)")
        return measure(server, runs)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
