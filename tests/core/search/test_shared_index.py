"""Search through the administrator's search index (the mirror's, or a node-wide one).

With the policy's ``search_index`` (or ``"mirror": true`` and the mirror's own,
found beside its ``pypi/simple``), search reads names, newest versions and summaries
from that one file: no project list is fetched from the index, nothing is asked of it,
and hits in the mirror say so.  The file is the administrator's: one another user could
have written (in a dir others write, theirs, a link, a FIFO) is refused with a note, and
search goes on as without it.  The tests run as root, the administrator here; "another
user" is ``nobody``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_userpkg.core.mirror.searchindex import FILENAME, Entry, render
from jupyter_userpkg.core.options import CondaOptions, SearchOptions, UvOptions
from jupyter_userpkg.core.policy.rules import PolicyError, from_data
from jupyter_userpkg.core.search import shared
from jupyter_userpkg.core.service import UserPkgService
from tests.searchindex import Project, SearchIndex

NOBODY = 65534
ENTRIES = [
    Entry("scikit-learn", "pypi", "scikit-learn", ("1.4.2", "1.5.0", "1.10.0"), "Machine learning"),
    Entry("learnkit", "pypi", "learnkit", ("0.1",), "Learning kit\twith a tab"),
    Entry("mirrok", "pypi", "mirrok", ("1.0",), "In the mirror"),
    Entry("libfoo", "conda", "libfoo", ("1.0", "2.0")),
]


@pytest.fixture
def upstream() -> Iterator[SearchIndex]:
    """The index users install from; its own list holds a name the mirror's does not."""
    index = SearchIndex([Project("mirrok", "upstream's"), Project("onlyupstream", "not mirrored")])
    yield index
    index.stop()


def written(path: Path, entries: list[Entry] = ENTRIES) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(entries), encoding="utf-8")
    return path


def service(
    tmp_path: Path, upstream: SearchIndex, conda: CondaOptions, **rules: object
) -> UserPkgService:
    return UserPkgService(
        tmp_path / "envs",
        base_python=sys.executable,
        lock_timeout=600,
        kernels_dir=tmp_path / "kernels",
        uv_options=UvOptions(default_index=upstream.url),
        conda_options=conda,
        search_options=SearchOptions(cache_dir=str(tmp_path / "search-cache")),
        policy=from_data(rules, "test policy"),
    )


def test_the_mirrors_index_answers_search_without_asking_the_index(
    tmp_path: Path, upstream: SearchIndex, conda_options: CondaOptions
) -> None:
    index = written(tmp_path / "mirror" / "current" / FILENAME)
    svc = service(
        tmp_path, upstream, conda_options, search_index=str(index), mirror=True, pypi=True
    )
    found = svc.search("learn")
    # A segment before a prefix; PEP 440's newest version, not the last one written.
    assert [(h.name, h.match, h.version, h.summary, h.mirror) for h in found.results] == [
        ("scikit-learn", "segment", "1.10.0", "Machine learning", True),
        ("learnkit", "prefix", "0.1", "Learning kit with a tab", True),
    ]
    assert found.results[0].to_dict()["in_mirror"] is True
    conda = svc.search("libfoo", source="conda")
    assert [(h.name, h.source, h.version) for h in conda.results] == [("libfoo", "conda", "2.0")]
    assert svc.search("onlyupstream").results == ()  # not in the mirror: not offered
    assert svc.search("mirrokk").suggestions == ("mirrok",)
    assert upstream.requests == []  # no project list, no details page
    assert not (tmp_path / "search-cache" / "pypi").exists()


def test_the_mirrors_index_is_found_beside_its_pypi_pages(
    tmp_path: Path, upstream: SearchIndex, conda_options: CondaOptions
) -> None:
    root = tmp_path / "mirror" / "current"
    written(root / FILENAME)
    svc = service(
        tmp_path, upstream, conda_options, indexes=[f"file://{root}/pypi/simple"], mirror=True
    )
    assert svc._sources().shared == f"file://{root}/{FILENAME}"
    assert [h.name for h in svc.search("mirrok", source="pypi").results] == ["mirrok"]


def test_a_node_wide_index_without_a_mirror_marks_nothing(
    tmp_path: Path, upstream: SearchIndex, conda_options: CondaOptions
) -> None:
    index = written(tmp_path / "node" / "search-index.tsv")
    svc = service(tmp_path, upstream, conda_options, search_index=str(index))
    found = svc.search("mirrok", source="pypi")
    assert [(h.name, h.summary, h.mirror) for h in found.results] == [
        ("mirrok", "In the mirror", None)
    ]
    assert upstream.requests == []


def test_a_search_index_is_an_absolute_path_or_a_url() -> None:
    with pytest.raises(PolicyError, match="search_index"):
        from_data({"search_index": "search-index.tsv"}, "test policy")


def planted_in_open_dir(tmp_path: Path) -> Path:
    """In a directory every user may write (not sticky): anyone could have put it there."""
    directory = tmp_path / "open"
    directory.mkdir()
    directory.chmod(0o777)
    return written(directory / FILENAME)


def owned_by_another_user(tmp_path: Path) -> Path:
    """A forged index in a user's home: their directory, their file."""
    home = tmp_path / "home" / "mallory"
    index = written(home / FILENAME)
    os.chown(home, NOBODY, NOBODY)
    os.chown(index, NOBODY, NOBODY)
    return index


def symlink_to_a_forged_one(tmp_path: Path) -> Path:
    """The administrator's name, a link to a file another user wrote."""
    forged = owned_by_another_user(tmp_path)
    link = tmp_path / "admin" / FILENAME
    link.parent.mkdir()
    link.symlink_to(forged)
    return link


def symlink_to_a_good_one(tmp_path: Path) -> Path:
    """Even a link to the administrator's own file is not followed as the last part."""
    good = written(tmp_path / "admin" / "real.tsv")
    link = tmp_path / "admin" / FILENAME
    link.symlink_to(good)
    return link


def fifo(tmp_path: Path) -> Path:
    """A FIFO where the file should be: refused, never waited on."""
    path = tmp_path / "admin" / FILENAME
    path.parent.mkdir()
    os.mkfifo(path)
    return path


def group_writable(tmp_path: Path) -> Path:
    index = written(tmp_path / "admin" / FILENAME)
    os.chown(index, 0, NOBODY)
    index.chmod(0o664)
    return index


@pytest.mark.parametrize(
    "plant",
    [
        planted_in_open_dir,
        owned_by_another_user,
        symlink_to_a_forged_one,
        symlink_to_a_good_one,
        fifo,
        group_writable,
    ],
)
def test_an_index_another_user_could_have_written_is_not_read(
    tmp_path: Path, upstream: SearchIndex, conda_options: CondaOptions, plant: object
) -> None:
    index = plant(tmp_path)  # type: ignore[operator]
    svc = service(
        tmp_path, upstream, conda_options, search_index=str(index), mirror=True, pypi=True
    )
    found = svc.search("onlyupstream", source="pypi")
    # Not the planted file's answer: the index's own list, and a note saying why.
    assert [h.name for h in found.results] == ["onlyupstream"]
    assert all(h.mirror is None for h in found.results)
    (note,) = [n for n in found.notes if str(index) in n]
    assert "refused" in note or "cannot be read" in note
    assert note.endswith("searched without it")
    assert "/simple/" in upstream.requests


def test_a_url_is_copied_once_into_the_users_cache_and_mapped_from_there(
    tmp_path: Path, upstream: SearchIndex, conda_options: CondaOptions
) -> None:
    import http.server
    import threading

    body = render(ENTRIES).encode()
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{FILENAME}"
        svc = service(tmp_path, upstream, conda_options, search_index=url, mirror=True)
        assert [h.name for h in svc.search("mirrok", source="pypi").results] == ["mirrok"]
        assert [h.name for h in svc.search("learnkit", source="pypi").results] == ["learnkit"]
        assert asked == [f"/{FILENAME}"]  # fresh for list_ttl: fetched once
    finally:
        server.shutdown()
        server.server_close()
    assert upstream.requests == []


NAMES = [
    "slugify", "python-slugify", "slugify-cli", "awesome-slugify", "unslugify", "slugifyx",
    "Flask_Cors", "flask", "flask-cors-ext", "a", "ab", "py", "pyx", "numpy", "numpy-stl",
    "scikit-learn", "learn", "learnkit", "machine-learning", "zlearn",
]  # fmt: skip


@pytest.mark.parametrize("few", [shared.FEW, 0])  # a source's lines ranked in memory, or walked
@pytest.mark.parametrize("query", ["slugify", "flask.cors", "learn", "py", "a", "num", "zzz"])
def test_the_index_ranks_as_the_in_memory_names_do(
    tmp_path: Path, query: str, few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_userpkg.core.namematch import NameIndex, normalize

    monkeypatch.setattr(shared, "FEW", few)

    path = written(
        tmp_path / FILENAME,
        [Entry(normalize(n), "pypi", n, ("1.0",), f"about {n}") for n in NAMES]
        + [Entry("flask", "conda", "flask", ("2.0",))],
    )
    names = NameIndex.build(NAMES)
    for limit in (3, 50):
        with shared.mapped(path) as data:
            got = [(f.hit.key, f.hit.match) for f in shared.match(data, query, limit, "pypi")]
            suggested = shared.suggest(data, query, 3)
        assert got == [(h.key, h.match) for h in names.match(query, limit)]
        assert suggested == names.suggest(query, 3)
