"""`jupyter userpkg search` and `info`: JSON shapes, text, bad input, through the real command."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from jupyter_userpkg.commands.grammar import parse_command
from jupyter_userpkg.commands.render import info_lines, search_lines
from jupyter_userpkg.core.errors import BadCommandLine
from jupyter_userpkg.core.searchrecords import PackageInfo, SearchHit, SearchResult
from tests.conda_channel import TestChannel
from tests.conftest import CLI
from tests.searchindex import Project, SearchIndex

PROJECTS = [
    Project(
        "scikit-learn", "A set of python modules for machine learning", {"1.5.0": (">=3.9", False)}
    ),
    Project("scikit-learn-extra", "More estimators " * 20, {"0.3.0": (None, False)}),
    Project("auto-sklearn", "Automated machine learning", {"0.15.0": (None, False)}),
    Project("pinme", "A PyPI project named like a conda package", {"3.0": (None, False)}),
    Project(
        "tabulate",
        "Pretty-print tabular data",
        {"0.8.10": (None, False), "0.9.0": (">=3.7", False)},
        {"license_expression": "MIT", "project_urls": {"Homepage": "https://example.invalid/t"}},
    ),
]


@pytest.fixture(scope="module")
def index() -> Iterator[SearchIndex]:
    served = SearchIndex(PROJECTS)
    yield served
    served.stop()


@pytest.fixture
def configured(cli: CLI, index: SearchIndex, conda_channel: TestChannel) -> CLI:
    """The CLI reading the loopback index and the test channel, with its own search cache."""
    config = cli.home / "config" / "jupyter_userpkg_config.json"
    settings = json.loads(config.read_text())
    settings["UserPkg"].update(
        default_index=index.url,
        default_channels=[conda_channel.url],
        search_cache_dir=str(cli.home / "search-cache"),
    )
    config.write_text(json.dumps(settings))
    return cli


@pytest.mark.slow
def test_search_json(configured: CLI, index: SearchIndex, conda_channel: TestChannel) -> None:
    found = configured.json("search", "Scikit_Learn", "--pypi")
    assert found == {
        "query": "Scikit_Learn",
        "results": [
            {
                "name": "scikit-learn",
                "source": "pypi",
                "index": index.url,
                "version": "1.5.0",
                "summary": "A set of python modules for machine learning",
                "match": "exact",
                "blocked": None,
                "in_mirror": None,
            },
            {
                "name": "scikit-learn-extra",
                "source": "pypi",
                "index": index.url,
                "version": "0.3.0",
                "summary": ("More estimators " * 20).strip(),
                "match": "segment",
                "blocked": None,
                "in_mirror": None,
            },
        ],
        "notes": [],
        "offline": False,
        "suggestions": [],
    }
    both = configured.json("search", "pin", "--limit", "5")
    assert [(r["name"], r["source"], r.get("channel")) for r in both["results"]] == [  # type: ignore[index]
        ("pinme", "pypi", None),
        ("pinme", "conda", conda_channel.url),
    ]
    conda = configured.json("search", "foo", "--conda")
    assert [(r["name"], r["match"]) for r in conda["results"]] == [  # type: ignore[index]
        ("libfoo", "substring"),
        ("pyfoo", "substring"),
    ]


@pytest.mark.slow
def test_info_json(configured: CLI, index: SearchIndex, conda_channel: TestChannel) -> None:
    assert configured.json("info", "tabulate") == {
        "name": "tabulate",
        "source": "pypi",
        "index": index.url,
        "summary": "Pretty-print tabular data",
        "versions": ["0.9.0", "0.8.10"],
        "latest": "0.9.0",
        "license": "MIT",
        "home_page": "https://example.invalid/t",
        "requires_python": ">=3.7",
        "notes": [],
        "offline": False,
        "blocked": None,
        "blocked_versions": {},
    }
    bar = configured.json("info", "bar")  # not on the index: the conda channel has it
    assert bar["source"] == "conda" and bar["channel"] == conda_channel.url  # type: ignore[index]
    assert bar["versions"] == ["2.0", "1.0"] and bar["depends"] == ["libfoo >=2"]  # type: ignore[index]


@pytest.mark.slow
def test_text_output(configured: CLI) -> None:
    out = configured("search", "learn", "--pypi").stdout.splitlines()
    assert out[0].split() == ["name", "version", "source", "summary"]
    assert out[3].split()[:3] == ["auto-sklearn", "0.15.0", "pypi"]
    # "learn" as a whole segment first, then inside a word.
    assert [line.split()[0] for line in out[1:]] == [
        "scikit-learn",
        "scikit-learn-extra",
        "auto-sklearn",
    ]
    typo = configured("search", "scikit-laern", "--pypi").stdout
    assert typo == "no package names match 'scikit-laern'\ndid you mean: scikit-learn?\n"
    info = configured("info", "tabulate").stdout
    assert info.splitlines()[0].startswith("tabulate 0.9.0  (http://127.0.0.1:")
    assert "  licence:         MIT\n" in info and "  versions:        0.9.0, 0.8.10\n" in info
    none = configured("search", "zzz-nothing").stdout
    assert none == "no package names match 'zzz-nothing'\n"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "status", "needle"),
    [
        (("info", "bad name!"), 1, "is not a valid package name"),
        (("info", "tabulate>=0.9", "--pypi"), 1, "is not a valid package name"),
        (("info", "not-on-any-index-xyz"), 1, "no package named 'not-on-any-index-xyz' on "),
        (("search", "a/b"), 1, "cannot be searched for"),
        (("search", "x", "--limit", "0"), 1, "the limit must be between 1 and 1000"),
        (("search", "x", "--pypi", "--conda"), 2, "not allowed with argument --pypi"),
        (("search", "x", "--limit", "many"), 2, "invalid int value"),
        (("info",), 2, "the following arguments are required: PACKAGE"),
    ],
)
def test_bad_input_is_one_line(
    configured: CLI, args: tuple[str, ...], status: int, needle: str
) -> None:
    proc = configured(*args, check=False)
    assert proc.returncode == status, proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith("jupyter userpkg: error: ") and needle in proc.stderr
    if status == 1:
        body = json.loads(configured(*args, "--json", check=False).stdout)
        assert set(body) >= {"code", "message", "details"} and needle in body["message"]


@pytest.mark.slow
def test_unreachable_index_without_a_cache(cli: CLI) -> None:
    config = cli.home / "config" / "jupyter_userpkg_config.json"
    settings = json.loads(config.read_text())
    settings["UserPkg"].update(
        default_index="http://127.0.0.1:9/simple",
        default_channels=[],
        search_cache_dir=str(cli.home / "search-cache"),
    )
    config.write_text(json.dumps(settings))
    proc = cli("search", "tabulate", "--pypi", check=False)
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith(
        "jupyter userpkg: error: cannot reach http://127.0.0.1:9/simple to list its projects"
    )
    assert json.loads(cli("search", "tabulate", "--json", check=False).stdout)["code"] == (
        "backend_unavailable"
    )


def test_grammar_of_search_and_info() -> None:
    args = parse_command(["search", "numpy"])
    assert (args.verb, args.query, args.source, args.limit, args.json) == (
        "search",
        "numpy",
        None,
        50,
        False,
    )
    args = parse_command(["search", "--conda", "numpy", "--limit", "3", "--json"])
    assert (args.source, args.limit, args.json) == ("conda", 3, True)
    args = parse_command(["info", "--pypi", "numpy"])
    assert (args.verb, args.package, args.source) == ("info", "numpy", "pypi")
    with pytest.raises(BadCommandLine, match="not allowed"):
        parse_command(["info", "numpy", "--conda", "--pypi"])


def test_search_table_fits_the_width_and_keeps_names_whole() -> None:
    found = SearchResult(
        "tab",
        (
            SearchHit("tabulate", "pypi", "https://pypi.org/simple", "prefix", "0.9.0", "x" * 200),
            SearchHit("a-very-long-name-" * 3, "pypi", "u", "substring", None, "short summary"),
            SearchHit("tabix", "conda", "c", "prefix", "1.0", None),
        ),
        ("could not reach PyPI",),
        True,
    )
    lines = search_lines(found, width=80)
    assert lines[0].startswith("name") and lines[0].endswith("summary")
    assert lines[1].startswith("tabulate") and len(lines[1]) == 80 and lines[1].endswith("…")
    assert lines[2].startswith("a-very-long-name-" * 3)  # cut nowhere; no room for its summary
    assert lines[3].split() == ["tabix", "1.0", "conda"]
    assert lines[-1] == "note: could not reach PyPI"
    narrow = search_lines(found, width=30)
    assert all("summary" not in line and "xxxx" not in line for line in narrow)


def test_info_block() -> None:
    pkg = PackageInfo(
        "bar",
        "conda",
        "file:///ch",
        versions=tuple(f"1.{i}" for i in range(20, 0, -1)),
        latest="1.20",
        license="MIT",
        depends=("libfoo >=2", "python"),
        subdir="noarch",
        notes=("could not reach file:///ch",),
    )
    assert info_lines(pkg) == [
        "bar 1.20  (conda: file:///ch)",
        "  licence:  MIT",
        "  subdir:   noarch",
        "  depends:  libfoo >=2, python",
        "  versions: " + ", ".join(f"1.{i}" for i in range(20, 8, -1)) + ", ... (20 in all)",
        "note: could not reach file:///ch",
    ]
