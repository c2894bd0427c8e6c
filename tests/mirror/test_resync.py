"""A sync with nothing new asks the upstream for each page conditionally (its ETag, or
its Last-Modified date, sent back), so an unchanged page is not sent again; a page that
changed is read and its new version mirrored; a kept page that cannot be read is read
again."""

from __future__ import annotations

import functools
import http.server
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
