"""A sync killed (SIGKILL) at several points, then one that finishes, with the served
tree whole throughout; prune after a rule change, only once the grace period is over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jupyter_userpkg.core.mirror.config import load_config
from jupyter_userpkg.core.mirror.plan import build_plan
from jupyter_userpkg.core.mirror.sync import sync
from tests.localindex import LocalIndex, build_wheel
from tests.mirror.conftest import OLD, build_upstream, make_site

pytestmark = pytest.mark.slow


@pytest.fixture
def slow_index(tmp_path: Path) -> Iterator[LocalIndex]:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_upstream(wheels)
    with LocalIndex(wheels, json=True, etags=True) as index:
        yield index


def _whole(current: Path) -> str | None:
    """What is missing from the served tree, if anything (None: it is whole)."""
    try:
        snapshot = json.loads((current / "snapshot.json").read_text())
    except FileNotFoundError:
        return "snapshot.json"
    for entry in snapshot["entries"].values():
        for name in entry.get("files", ()):
            if not (current / "pypi" / "files" / name).is_file():
                return str(name)
    for name in os.listdir(current / "pypi" / "simple"):
        if name.endswith((".html", ".json")):
            continue
        if not (current / "pypi" / "simple" / name / "index.html").is_file():
            return name
    return None


def test_a_killed_sync_leaves_current_whole_and_the_next_one_resumes(
    tmp_path: Path, slow_index: LocalIndex
) -> None:
    site = make_site(tmp_path / "site", slow_index, None)
    config = load_config(site.config)
    first = sync(config)
    current = config.output / "current"
    problems: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            missing = _whole(current)
            if missing is not None:
                problems.append(missing)

    # New versions upstream, large and served slowly: the next sync downloads a while.
    new = [
        build_wheel(slow_index.directory, "app", "4.0", requires=["libdep>=1.0"],
                    padding=2_000_000, license_expression="MIT", uploaded=OLD),
        build_wheel(slow_index.directory, "libdep", "1.2", padding=2_000_000,
                    license_expression="MIT", uploaded=OLD),
    ]  # fmt: skip
    slow_index.slow = 0.05
    watcher = threading.Thread(target=reader, daemon=True)
    watcher.start()
    argv = [sys.executable, "-m", "jupyter_userpkg", "mirror", "sync", "--config", str(site.config)]
    store = config.output / ".store" / "pypi"
    # mid-download of the first file; between the files; after both, before publishing
    points: list[Callable[[], bool]] = [
        lambda: bool(list(store.glob(f"{new[0].name}.part-*"))),
        lambda: (store / new[0].name).exists(),
        lambda: all((store / w.name).exists() for w in new),
    ]
    for n, point in enumerate(points):
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not point() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.stderr is not None
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read()  # killed, not finished
        if n < 2:  # (after the downloads, the kill may come after the switch: also whole)
            assert json.loads((current / "snapshot.json").read_text())["id"] == first.snapshot
    kept = {p.name for p in store.iterdir()} & {w.name for w in new}
    assert kept == {w.name for w in new}
    slow_index.slow = 0
    done = subprocess.run([*argv, "--json"], capture_output=True, text=True, timeout=300)
    stop.set()
    watcher.join()
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["snapshot"] != first.snapshot
    assert result["downloaded"] == 0  # what was whole in the store was not fetched again
    assert problems == []
    assert not list(config.output.glob(".build-*")) and not list(store.glob("*.part-*"))
    assert {w.name for w in new} <= set(os.listdir(current / "pypi" / "files"))


def test_prune_removes_what_a_rule_now_refuses_only_after_the_grace_period(
    tmp_path: Path, slow_index: LocalIndex
) -> None:
    site = make_site(tmp_path / "site", slow_index, None)
    config = load_config(site.config)
    sync(config)
    wheel = "app-3.0-py3-none-any.whl"
    current = config.output / "current"
    assert (current / "pypi" / "files" / wheel).is_file()
    site.write_policy(blocked_versions=[{"name": "app", "versions": "==3.0", "reason": "broken"}])

    plan = build_plan(config, prune=True).plan
    [leaving] = [r for r in plan.remove if r.key == "pypi/app/3.0"]
    assert not leaving.removed and leaving.decision is not None
    assert leaving.decision.rule == "blocked_versions: app ==3.0"
    second = sync(config, prune=True)  # within the grace period: still served
    assert second.published and (current / "pypi" / "files" / wheel).is_file()
    line = next(
        json.loads(row)
        for row in (current / "decisions.jsonl").read_text().splitlines()
        if '"app"' in row and '"3.0"' in row
    )
    assert line["decision"] == "out" and "still served until" in line["evidence"]

    text = site.config.read_text().replace("grace_days = 14", "grace_days = 0")
    site.config.write_text(text)
    third = sync(load_config(site.config), prune=True)
    assert third.published and not (current / "pypi" / "files" / wheel).exists()
    page = json.loads((current / "pypi" / "simple" / "app" / "index.json").read_text())
    assert "3.0" not in page["versions"]
    assert sorted(p.name for p in config.output.iterdir() if not p.name.startswith(".")) == sorted(
        ["current", second.snapshot, third.snapshot]
    )
