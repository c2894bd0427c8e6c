"""``search`` and ``info``: ranking, details, caches and the offline path, against real indexes.

PyPI-side tests run against a small PEP 691 index this module serves on
loopback (and one test against PyPI itself); conda-side tests against the
channel the test suite builds, read through the engine's rattler gateway.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from jupyter_userpkg.core.errors import (
    BackendUnavailable,
    InvalidRequest,
    InvalidSpec,
    PackageNotFound,
)
from jupyter_userpkg.core.namematch import NameIndex
from jupyter_userpkg.core.options import CondaOptions, SearchOptions, UvOptions
from jupyter_userpkg.core.search import conda as condasearch
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import TestChannel
from tests.searchindex import Project, SearchIndex

PROJECTS = [
    Project(
        "scikit-learn",
        "A set of python modules for machine learning",
        {"0.24": (None, False), "1.5.0": (">=3.9", False)},
    ),
    Project("scikit-learn-extra", "More estimators", {"0.3.0": (">=3.7", False)}),
    Project("Scikit-Image", "Image processing", {"0.22.0": (">=3.9", False)}),
    Project("sklearn-pandas", "Pandas integration", {"2.2.0": (None, False)}),
    Project("auto-sklearn", "Automated machine learning", {"0.15.0": (None, False)}),
    Project("learn2learn", "Meta-learning", {"0.2.0": (None, False)}),
    Project("Flask", "A simple framework", {"3.0.0": (">=3.8", False)}),
    Project("flask_cors", "Cross origin", {"4.0.0": (None, False)}),
    Project("my.flask.ext", "An extension", {"1.0": (None, False)}),
    Project(
        "tabulate",
        "Pretty-print tabular data",
        {
            "0.8.10": (None, False),
            "0.9.0": (">=3.7", False),
            "0.10.0rc1": (">=3.9", False),
            "0.9.1": (">=3.7", True),
        },
        {
            "license_expression": "MIT",
            "license": "MIT License (the whole text would be here)",
            "project_urls": {"Homepage": "https://example.invalid/tabulate"},
        },
    ),
    Project(
        "licensed-by-field",
        "A licence in the licence field",
        {"1.0": (None, False)},
        {"license": "BSD-3-Clause", "classifiers": ["License :: OSI Approved :: MIT License"]},
    ),
    Project(
        "licensed-by-classifier",
        "A licence only in the classifiers",
        {"1.0": (None, False)},
        {
            "license": "Copyright (c) someone\n\nPermission is hereby granted...",
            "classifiers": [
                "Programming Language :: Python",
                "License :: OSI Approved :: Apache Software License",
            ],
            "home_page": "https://example.invalid/home",
        },
    ),
    Project(
        "no-json-api",
        "",
        {
            "1.0": (">=3.6", False),
            "1.1": (">=3.8", False),
            "2.0b1": (">=3.10", False),
            "1.2": (None, True),
        },
        json_api=False,
    ),
    Project("gone-project", "deleted since the list was made", gone=True),
]


@pytest.fixture
def index() -> Iterator[SearchIndex]:
    served = SearchIndex(PROJECTS)
    yield served
    served.stop()


def service(
    tmp_path: Path,
    index_url: str,
    *,
    channels: tuple[str, ...] = (),
    conda: CondaOptions | None = None,
    **search: object,
) -> UserPkgService:
    conda = conda or CondaOptions(repodata_cache_dir=str(tmp_path / "repodata"))
    return UserPkgService(
        tmp_path / "envs",
        uv_options=UvOptions(default_index=index_url),
        conda_options=replace(conda, default_channels=channels),
        search_options=SearchOptions(cache_dir=str(tmp_path / "search"), **search),  # type: ignore[arg-type]
    )


def ranked(svc: UserPkgService, query: str, **kwargs: object) -> list[tuple[str, str]]:
    found = svc.search(query, source="pypi", **kwargs)  # type: ignore[arg-type]
    return [(h.name, h.match) for h in found.results]


# ------------------------------------------------------------------ ranking


def test_ranking_exact_then_segment_then_prefix_then_normalised_substring(
    tmp_path: Path, index: SearchIndex
) -> None:
    svc = service(tmp_path, index.url)
    assert ranked(svc, "Scikit_Learn") == [
        ("scikit-learn", "exact"),
        ("scikit-learn-extra", "segment"),
    ]
    # A whole segment (at the start, then inside, shorter first) before a bare prefix.
    assert ranked(svc, "learn") == [
        ("scikit-learn", "segment"),
        ("scikit-learn-extra", "segment"),
        ("learn2learn", "prefix"),
        ("auto-sklearn", "substring"),
        ("sklearn-pandas", "substring"),
    ]
    assert ranked(svc, "FLASK") == [
        ("Flask", "exact"),
        ("flask_cors", "segment"),
        ("my.flask.ext", "segment"),
    ]
    assert ranked(svc, "flask.cors") == [("flask_cors", "exact")]
    assert ranked(svc, "learn", limit=2) == [
        ("scikit-learn", "segment"),
        ("scikit-learn-extra", "segment"),
    ]
    assert ranked(svc, "nothing-like-it") == []


def test_slugify_ranks_python_slugify_among_the_segments() -> None:
    names = NameIndex.build(
        ["slugifyer", "awesome-slugify-x", "python-slugify", "pyslugify", "slugify-cli", "x"]
    )
    assert [(h.name, h.match) for h in names.match("slugify", 10)] == [
        ("slugify-cli", "segment"),
        ("python-slugify", "segment"),
        ("awesome-slugify-x", "segment"),
        ("slugifyer", "prefix"),
        ("pyslugify", "substring"),
    ]


def test_did_you_mean_names_one_edit_away(tmp_path: Path, index: SearchIndex) -> None:
    names = NameIndex.build(["pandas", "panda", "numpy", "Flask", "a"])
    assert names.has_key("pandas") and names.has_key("a") and not names.has_key("pand")
    # Two letters swapped first, then one left out.
    assert names.suggest("pandsa") == ["pandas", "panda"]
    assert names.suggest("pandsa", 1) == ["pandas"]
    assert names.suggest("nmpy") == ["numpy"]  # one left out
    assert names.suggest("flazk") == ["Flask"]  # as the index spells it
    assert names.suggest("pandas") == ["panda"]
    assert names.suggest("zzzzzz") == []
    svc = service(tmp_path, index.url)
    found = svc.search("tabluate", source="pypi")
    assert found.results == () and found.suggestions == ("tabulate",)
    assert found.to_dict()["suggestions"] == ["tabulate"]
    # A query that is a name gets none.
    assert svc.search("tabulate", source="pypi").suggestions == ()


def test_search_result_shape_with_versions_and_summaries(
    tmp_path: Path, index: SearchIndex
) -> None:
    found = service(tmp_path, index.url).search("scikit", source="pypi").to_dict()
    assert set(found) == {"query", "results", "notes", "offline", "suggestions"}
    assert (found["query"], found["notes"], found["offline"]) == ("scikit", [], False)
    first = found["results"][0]
    assert first == {
        "name": "Scikit-Image",
        "source": "pypi",
        "index": index.url,
        "version": "0.22.0",
        "summary": "Image processing",
        "match": "segment",
        "blocked": None,  # no policy here
        "in_mirror": None,
    }
    learn = next(r for r in found["results"] if r["name"] == "scikit-learn")
    assert learn["version"] == "1.5.0"


def test_name_index_keeps_spellings_and_duplicates() -> None:
    names = NameIndex.build(
        ["Zope.Interface", "a__b", "python_abi", "python-abi", "numpy", "numpy-base"]
    )
    assert [(h.name, h.match) for h in names.match("A-B", 10)] == [("a__b", "exact")]
    assert [h.name for h in names.match("python_abi", 10)] == ["python-abi", "python_abi"]
    assert [(h.name, h.match) for h in names.match("interface", 10)] == [
        ("Zope.Interface", "segment")
    ]
    assert [h.name for h in names.match("numpy", 10)] == ["numpy", "numpy-base"]
    assert names.spelling("zope_interface") == "Zope.Interface" and "NUMPY" in names
    assert len(names) == 6 and names.match("", 10) == []


# ------------------------------------------------------------------ details


def test_info_from_the_json_api(tmp_path: Path, index: SearchIndex) -> None:
    svc = service(tmp_path, index.url)
    info = svc.info("Tabulate", source="pypi").to_dict()
    assert info == {
        "name": "tabulate",
        "source": "pypi",
        "index": index.url,
        "summary": "Pretty-print tabular data",
        "versions": ["0.10.0rc1", "0.9.0", "0.8.10"],  # newest first; 0.9.1 is yanked
        "latest": "0.10.0rc1",  # what the JSON API calls the latest
        "license": "MIT",  # License-Expression first
        "home_page": "https://example.invalid/tabulate",
        "requires_python": ">=3.9",
        "notes": [],
        "offline": False,
        "blocked": None,
        "blocked_versions": {},
    }
    assert svc.info("licensed-by-field").license == "BSD-3-Clause"
    by_classifier = svc.info("licensed_by_classifier")
    assert by_classifier.license == "Apache Software License"
    assert by_classifier.home_page == "https://example.invalid/home"


def test_info_without_a_json_api_reads_the_project_page(tmp_path: Path, index: SearchIndex) -> None:
    info = service(tmp_path, index.url).info("no-json-api")
    assert info.versions == ("2.0b1", "1.1", "1.0")  # 1.2 is yanked
    assert info.latest == "1.1"  # the newest final release
    assert info.requires_python == ">=3.8"
    assert info.summary is None and info.license is None
    assert "no JSON API" in info.notes[0]
    assert "/pypi/no-json-api/json" in index.requests and "/simple/no-json-api/" in index.requests


def test_a_static_html_index_is_read_too(tmp_path: Path) -> None:
    """PEP 503 pages, as static mirrors serve them (and some indexes whatever one asks)."""
    served = SearchIndex(PROJECTS, html_pages=True)
    try:
        svc = service(tmp_path, served.url)
        assert ranked(svc, "Scikit_Learn")[0] == ("scikit-learn", "exact")
        info = svc.info("no-json-api")
        assert (info.versions, info.requires_python) == (("2.0b1", "1.1", "1.0"), ">=3.8")
    finally:
        served.stop()


def test_details_are_cached_on_disk_and_private(tmp_path: Path, index: SearchIndex) -> None:
    svc = service(tmp_path, index.url)
    svc.info("flask")
    asked = len(index.requests)
    svc.info("Flask")
    assert len(index.requests) == asked  # within info_ttl: from the cache
    cache = tmp_path / "search"
    assert cache.stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o077 == 0 for p in cache.rglob("*"))


def test_unknown_package_is_package_not_found(tmp_path: Path, index: SearchIndex) -> None:
    svc = service(tmp_path, index.url)
    with pytest.raises(
        PackageNotFound, match=r"no package named 'not-here' on http://127\.0\.0\.1"
    ):
        svc.info("not-here", source="pypi")
    with pytest.raises(PackageNotFound, match="no package named 'not-here'"):
        svc.info("not-here")  # no conda channel configured: PyPI's answer


def test_a_listed_project_without_a_page_is_not_asked_for_again(
    tmp_path: Path, index: SearchIndex
) -> None:
    svc = service(tmp_path, index.url)
    (hit,) = svc.search("gone-project", source="pypi").results
    assert (hit.name, hit.version, hit.summary) == ("gone-project", None, None)
    asked = len(index.requests)
    assert svc.search("gone-project", source="pypi").results == (hit,)
    assert len(index.requests) == asked
    with pytest.raises(PackageNotFound):  # info asks: it may have been published since
        svc.info("gone-project")
    assert len(index.requests) > asked


@pytest.mark.parametrize(
    "name",
    ["../etc/passwd", "a b", "tabulate==0.9", "-x", "x/..", "tab?q=1", "", "é", "na\nme", "a%2fb"],
)
def test_invalid_names_are_refused_before_any_request(
    tmp_path: Path, index: SearchIndex, name: str
) -> None:
    svc = service(tmp_path, index.url)
    with pytest.raises(InvalidSpec):
        svc.info(name, source="pypi")
    with pytest.raises(InvalidSpec):
        svc.info(name)
    assert index.requests == []


def test_bad_search_arguments(tmp_path: Path, index: SearchIndex) -> None:
    svc = service(tmp_path, index.url)
    for query in ("", "   ", "x" * 201, "a*b", "../x", "a b", "x?y", "a\nb"):
        with pytest.raises(InvalidSpec):
            svc.search(query)
    with pytest.raises(InvalidRequest, match="limit"):
        svc.search("x", limit=0)
    with pytest.raises(InvalidRequest, match="unknown source"):
        svc.search("x", source="npm")
    assert index.requests == []


# ------------------------------------------------------------ offline, stale


def test_unreachable_index_uses_the_stale_cache_and_says_so(tmp_path: Path) -> None:
    served = SearchIndex(PROJECTS)
    svc = service(tmp_path, served.url, list_ttl=0, info_ttl=0)  # every call wants the network
    assert ranked(svc, "flask")[0] == ("Flask", "exact")
    svc.info("tabulate")
    served.stop()
    found = svc.search("flask", source="pypi")
    assert [h.name for h in found.results] == ["Flask", "flask_cors", "my.flask.ext"]
    assert found.offline and len(found.notes) == 1
    assert found.notes[0].startswith(f"could not reach {served.url}")
    assert "names as cached on" in found.notes[0]
    info = svc.info("tabulate", source="pypi")
    assert info.offline and "0.9.0" in info.versions
    assert any("could not reach" in n for n in info.notes)
    with pytest.raises(BackendUnavailable, match=r"cannot reach .* details of scikit-image"):
        svc.info("scikit-image", source="pypi")  # never fetched: nothing to fall back on

    fresh = service(tmp_path / "other", served.url)  # no cache at all
    with pytest.raises(BackendUnavailable) as caught:
        fresh.search("flask", source="pypi")
    assert caught.value.message.startswith(f"cannot reach {served.url} to list its projects")
    assert "no copy is cached; check the network connection" in caught.value.message


def test_offline_option_reads_the_cache_only(tmp_path: Path, index: SearchIndex) -> None:
    service(tmp_path, index.url).search("flask", source="pypi")
    asked = len(index.requests)
    offline = service(tmp_path, index.url, offline=True, list_ttl=0, info_ttl=0)
    found = offline.search("flask", source="pypi")
    assert [h.name for h in found.results] == ["Flask", "flask_cors", "my.flask.ext"]
    assert found.offline and found.notes[0].startswith("working offline")
    assert found.results[0].version == "3.0.0"  # details cached by the first search
    with pytest.raises(PackageNotFound):
        offline.info("not-listed", source="pypi")
    with pytest.raises(BackendUnavailable, match="working offline, and the details of learn2learn"):
        offline.info("learn2learn", source="pypi")
    assert len(index.requests) == asked  # nothing reached the index

    with pytest.raises(BackendUnavailable, match="working offline, and the project list"):
        service(tmp_path / "other", index.url, offline=True).search("flask", source="pypi")


# -------------------------------------------------------------------- conda


@pytest.fixture
def conda_opts(conda_caches: Path) -> CondaOptions:
    return CondaOptions(
        repodata_cache_dir=str(conda_caches / "repodata"), pkgs_dir=str(conda_caches / "pkgs")
    )


def test_conda_search_and_info(
    tmp_path: Path, index: SearchIndex, conda_channel: TestChannel, conda_opts: CondaOptions
) -> None:
    svc = service(tmp_path, index.url, channels=(conda_channel.url,), conda=conda_opts)
    found = svc.search("bar", source="conda").to_dict()
    assert found["results"] == [
        {
            "name": "bar",
            "source": "conda",
            "channel": conda_channel.url,
            "version": "2.0",
            "summary": None,
            "match": "exact",
            "blocked": None,
            "in_mirror": None,
        }
    ]
    assert [(h.name, h.match) for h in svc.search("FOO", source="conda").results] == [
        ("libfoo", "substring"),
        ("pyfoo", "substring"),
    ]
    assert [h.name for h in svc.search("needs", source="conda").results] == [
        "needs-cuda",
        "needs-glibc",
    ]
    info = svc.info("bar", source="conda").to_dict()
    assert info == {
        "name": "bar",
        "source": "conda",
        "channel": conda_channel.url,
        "summary": None,
        "versions": ["2.0", "1.0"],
        "latest": "2.0",
        "license": "MIT",
        "home_page": None,
        "requires_python": None,
        "notes": [],
        "offline": False,
        "blocked": None,
        "blocked_versions": {},
        "depends": ["libfoo >=2"],
        "subdir": "noarch",
    }
    assert svc.info("libfoo").source == "conda"  # not on PyPI: then conda
    with pytest.raises(
        PackageNotFound,
        match=f"no package named 'nothere' in the conda channels {conda_channel.url}",
    ):
        svc.info("nothere", source="conda")
    with pytest.raises(PackageNotFound, match=r"on .* or in the conda channels"):
        svc.info("nothere")
    with pytest.raises(InvalidSpec):
        svc.info("bar>=1", source="conda")


def test_search_without_a_source_reads_both(
    tmp_path: Path, conda_channel: TestChannel, conda_opts: CondaOptions
) -> None:
    served = SearchIndex([Project("pinme", "on PyPI too", {"3.0": (None, False)}), *PROJECTS])
    try:
        svc = service(tmp_path, served.url, channels=(conda_channel.url,), conda=conda_opts)
        found = svc.search("pin")
        assert [(h.name, h.source, h.match, h.version) for h in found.results] == [
            ("pinme", "pypi", "prefix", "3.0"),
            ("pinme", "conda", "prefix", "1.1"),
        ]
        assert found.notes == () and not found.offline
        assert [h.source for h in svc.search("tabulate").results] == ["pypi"]
        # A conda channel that cannot be read is a note; only --conda makes it an error.
        broken = service(
            tmp_path, served.url, channels=("http://127.0.0.1:9/gone",), conda=conda_opts
        )
        found = broken.search("flask")
        assert [h.name for h in found.results] == ["Flask", "flask_cors", "my.flask.ext"]
        assert found.notes[0].startswith("the conda channels could not be searched: cannot read")
        with pytest.raises(BackendUnavailable):
            broken.search("flask", source="conda")
        none = service(tmp_path, served.url, conda=conda_opts)
        assert "no conda channels are configured" in none.search("flask").notes[0]
        with pytest.raises(BackendUnavailable, match="no conda channels are configured"):
            none.search("flask", source="conda")
    finally:
        served.stop()


class _NoCache(http.server.SimpleHTTPRequestHandler):
    """A static channel whose answers must be revalidated (so an unreachable one shows)."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_conda_channel_unreachable_uses_the_cached_repodata(
    tmp_path: Path, conda_channel: TestChannel
) -> None:
    # A copy with plain repodata.json only (no shards another test may have added).
    channel = tmp_path / "channel"
    shutil.copytree(conda_channel.path, channel, ignore=shutil.ignore_patterns("*shards*"))
    handler = functools.partial(_NoCache, directory=str(channel))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    options = CondaOptions(
        repodata_cache_dir=str(tmp_path / "repodata"),
        default_channels=(url,),
        repodata_ttl=0,  # every search looks for news
    )
    assert condasearch.info("pinme", options).latest == "1.1"
    server.shutdown()
    server.server_close()
    svc = service(tmp_path, "http://127.0.0.1:9/simple", channels=(url,), conda=options)
    found = svc.search("pin", source="conda")
    assert [(h.name, h.version) for h in found.results] == [("pinme", "1.1")]
    assert found.offline and found.notes[0].startswith(f"could not reach {url}")
    # PyPI is unreachable and uncached too: without a source, conda's results and two notes.
    both = svc.search("pin")
    assert [h.source for h in both.results] == ["conda"] and len(both.notes) == 2


# ------------------------------------------------------------------- PyPI


@pytest.mark.slow
def test_real_pypi(tmp_path: Path) -> None:
    svc = UserPkgService(
        tmp_path / "envs",
        conda_options=CondaOptions(default_channels=()),
        search_options=SearchOptions(cache_dir=str(tmp_path / "search")),
    )
    info = svc.info("tabulate", source="pypi")
    assert "0.9.0" in info.versions and info.summary and info.license
    assert info.versions[0] == info.latest or info.latest in info.versions
    found = svc.search("tabulate", source="pypi")
    assert (found.results[0].name, found.results[0].match) == ("tabulate", "exact")
    assert found.results[0].version == info.latest
    assert all(h.match in ("segment", "prefix", "substring") for h in found.results[1:])
    slugify = [h.name.lower() for h in svc.search("slugify", source="pypi").results]
    assert slugify[0] == "slugify" and "python-slugify" in slugify[:30]
    assert "pandas" in svc.search("pandsa", source="pypi").suggestions
