"""A sync with nothing new asks the upstream for each page conditionally (its ETag, or
its Last-Modified date, sent back), so an unchanged page is not sent again; a page that
changed is read and its new version mirrored; a kept page that cannot be read is read
again."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from jupyter_userpkg.core.mirror.config import load_config
from jupyter_userpkg.core.mirror.pagecache import PageCache
from jupyter_userpkg.core.mirror.plan import PAGES
from jupyter_userpkg.core.mirror.sync import sync
from tests.localindex import LocalIndex, build_wheel
from tests.mirror.conftest import OLD, build_upstream, make_site

pytestmark = pytest.mark.slow


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LocalIndex]:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_upstream(wheels)
    with LocalIndex(wheels, json=True, etags=True) as index:
        yield index


def _answers(index: LocalIndex) -> dict[str, int]:
    """How the upstream first answered each page this sync (later ones are uv's, when a
    solve runs: it has a cache of its own)."""
    out: dict[str, int] = {}
    for path, status in index.answers:
        out.setdefault(path.strip("/").split("/")[-1], status)
    return out


def test_a_sync_with_nothing_new_is_sent_no_page_and_a_changed_page_is_read(
    tmp_path: Path, index: LocalIndex
) -> None:
    site = make_site(tmp_path / "site", index, None)
    config = load_config(site.config)
    first = sync(config)
    assert first.published

    index.answers.clear()
    again = sync(config)
    assert not again.published and again.downloaded == 0
    answers = _answers(index)
    assert {"app", "libdep", "gplpkg"} <= set(answers)
    assert set(answers.values()) == {304}  # every page asked with its ETag: none sent again

    # libdep 1.2 upstream: its page changes, the others do not; the mirror serves it.
    build_wheel(index.directory, "libdep", "1.2", license_expression="MIT", uploaded=OLD)
    index.answers.clear()
    third = sync(config)
    answers = _answers(index)
    assert answers.pop("libdep") == 200 and set(answers.values()) == {304}
    assert third.published and third.downloaded == 1
    files = config.output / "current" / "pypi" / "files"
    assert (files / "libdep-1.2-py3-none-any.whl").is_file()

    # A kept page that does not parse is a page never read: asked for in full.
    (config.output / PAGES / "app.json").write_text("{not json")
    index.answers.clear()
    fourth = sync(config)
    assert not fourth.published and _answers(index)["app"] == 200


def test_a_kept_page_is_used_only_for_the_upstream_it_came_from(tmp_path: Path) -> None:
    """An administrator who changes ``pypi.upstream`` gets the new upstream's pages: a
    validator of the old one is never sent to it (a date could match by chance)."""
    cache = PageCache(tmp_path / "pages")
    cache.put("app", "https://old.example/simple/app/", "", "Tue, 01 Dec 2026 00:00:00 GMT", [])
    cache.put("evil/../x", "https://old.example/simple/x/", '"tag"', "", [])
    cache.save()
    assert [p.name for p in (tmp_path / "pages").iterdir()] == ["app.json"]
    kept = cache.get("app", "https://old.example/simple/app/")
    assert kept is not None and kept.validators() == {
        "If-Modified-Since": "Tue, 01 Dec 2026 00:00:00 GMT"
    }
    assert cache.get("app", "https://new.example/simple/app/") is None


class _Logged(http.server.SimpleHTTPRequestHandler):
    """``python -m http.server``'s handler, noting each project page's answer."""

    answers: list[tuple[str, int]]

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.path.startswith("/pypi/simple/") and self.path.count("/") == 4:
            self.answers.append((self.path, int(code)))


@contextmanager
def static(directory: Path) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    answers: list[tuple[str, int]] = []
    handler = type("Handler", (_Logged,), {"answers": answers})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(directory))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/pypi/simple", answers
    finally:
        server.shutdown()
        server.server_close()


def test_a_static_upstream_answers_by_date(tmp_path: Path, index: LocalIndex) -> None:
    """A mirror of a mirror: the upstream is a tree of files served as ``python -m
    http.server`` serves it, whose pages have a Last-Modified date and no ETag."""
    site = make_site(tmp_path / "site", index, None)
    sync(load_config(site.config))
    with static(tmp_path / "site" / "out" / "current") as (url, answers):
        (tmp_path / "approved.txt").write_text("app\n")
        # (no snapshot date: these HTML pages carry no upload times, PEP 700 being JSON's)
        (tmp_path / "policy.json").write_text("{}")
        config = tmp_path / "second.toml"
        config.write_text(
            f'output = "{tmp_path / "second"}"\npolicy = "{tmp_path / "policy.json"}"\n'
            f'[pypi]\nupstream = "{url}"\npython = ["3.11"]\nplatforms = ["linux"]\n'
            f'keep_latest = 1\n[seed]\nrequirements = ["{tmp_path / "approved.txt"}"]\n'
        )
        first = sync(load_config(config))
        assert first.published and {s for _, s in answers} == {200}
        answers.clear()
        again = sync(load_config(config))
    assert not again.published and again.downloaded == 0
    assert answers and {s for _, s in answers} == {304}, answers


def test_prune_removes_the_kept_pages_of_projects_that_left_after_the_grace_period(
    tmp_path: Path, index: LocalIndex
) -> None:
    """``output/.pages`` keeps a page per project read: once no seed, request or lock
    needs a project and its grace period is over, ``sync --prune`` removes its page too
    (not before: the versions still served in their grace keep their page)."""
    site = make_site(tmp_path / "site", index, None)
    config = load_config(site.config)
    sync(config)
    pages = config.output / PAGES
    assert {"app.json", "libdep.json", "gplpkg.json"} <= {p.name for p in pages.iterdir()}

    (site.root / "approved.txt").write_text("userlib\nevil\ngplpkg\n")  # app (and libdep) go
    second = sync(config, prune=True)  # within the grace period: still served, pages kept
    assert second.published and (pages / "app.json").is_file()
    assert (pages / "libdep.json").is_file() and (pages / "userlib.json").is_file()
    assert not [p for p in second.pruned if p.startswith(".pages/")]

    site.config.write_text(site.config.read_text().replace("grace_days = 14", "grace_days = 0"))
    without = sync(load_config(site.config))  # no --prune: nothing removed
    assert (pages / "app.json").is_file() and not without.pruned
    third = sync(load_config(site.config), prune=True)
    assert {".pages/app.json", ".pages/libdep.json"} <= set(third.pruned)
    left = {p.name for p in pages.iterdir()}
    assert "app.json" not in left and "libdep.json" not in left
    assert {"userlib.json", "gplpkg.json", "evil.json"} <= left  # what this sync still reads
    index.answers.clear()
    sync(load_config(site.config))
    assert set(_answers(index).values()) == {304}  # the pages left are still asked with ETags


#: What a no-change sync has no use for: the solvers' machinery (rattler, its event loop),
#: the writing of a snapshot, and httpx's command-line client (rich, pygments, click).
NOT_ON_THE_NO_CHANGE_PATH = (
    "asyncio", "rattler", "jupyter_userpkg.core.mirror.tree",
    "jupyter_userpkg.core.mirror.pages", "jupyter_userpkg.core.pypi.uv", "rich", "pygments",
    "click",
)  # fmt: skip


def _modules_of_a_command_sync(config: Path) -> set[str]:
    """The modules ``jupyter userpkg mirror sync`` loaded (and their packages), when it
    published nothing."""
    code = (
        "import json, sys\n"
        "from jupyter_userpkg.cli import main\n"
        "status = main(['mirror', 'sync', '--config', sys.argv[1], '--json'])\n"
        "sys.stderr.write(json.dumps([status, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(config)], capture_output=True, text=True, check=True
    )
    status, modules = json.loads(done.stderr)
    assert status == 0 and json.loads(done.stdout)["published"] is False
    return {m.split(".")[0] for m in modules} | set(modules)


def test_a_no_change_sync_as_a_command_loads_no_solver_and_no_writer(
    tmp_path: Path, index: LocalIndex
) -> None:
    """``jupyter userpkg mirror sync`` run again with nothing new (an administrator's cron
    job) starts without what only a change needs: its start-up is most of its time.  A
    change of the policy that leaves the snapshot as it was is built once, not again at
    every sync after it."""
    site = make_site(tmp_path / "site", index, None)
    sync(load_config(site.config))
    loaded = _modules_of_a_command_sync(site.config)
    assert "httpx" in loaded  # the pages are still asked for, conditionally
    assert not loaded & set(NOT_ON_THE_NO_CHANGE_PATH)

    blocked = [{"name": "evil", "reason": "known malicious"}, {"name": "nothere", "reason": "x"}]
    site.write_policy(blocked_packages=blocked)  # no package of the mirror meets the new rule
    assert not sync(load_config(site.config)).published  # built, the same content
    assert not _modules_of_a_command_sync(site.config) & set(NOT_ON_THE_NO_CHANGE_PATH)
