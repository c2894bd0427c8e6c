"""The mirror's pure parts: the search index's binary search, which wheels a target
installs, uv's ``# via`` annotations as dependency paths, and the HTML page parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_userpkg.core.mirror.pages import ServedFile, project_html, wheel_fits
from jupyter_userpkg.core.mirror.pypiclosure import _path, parse_compiled
from jupyter_userpkg.core.mirror.searchindex import Entry, lookup, render
from jupyter_userpkg.core.mirror.upstream import _ANCHOR, _html_file


def test_search_index_finds_every_prefix_by_binary_search(tmp_path: Path) -> None:
    names = ["a", "aa", "ab", "abc", "b", "numpy", "numpy-financial", "numpydoc", "zz"]
    names += [f"pkg-{i:04d}" for i in range(500)]
    path = tmp_path / "index.tsv"
    path.write_text(render(Entry(n, "pypi", n, ("1.0",), f"about {n}") for n in names))
    for prefix in ("a", "ab", "numpy", "pkg-02", "zz", "pkg-0499"):
        found = [e.name for e in lookup(path, prefix, limit=1000)]
        assert found == sorted(n for n in names if n.startswith(prefix)), prefix
    assert lookup(path, "nothing") == [] and lookup(path, "0") == []
    assert lookup(path, "Numpy_Fin")[0].summary == "about numpy-financial"
    (tmp_path / "empty.tsv").write_text("")
    assert lookup(tmp_path / "empty.tsv", "a") == []


@pytest.mark.parametrize(
    ("filename", "fits"),
    [
        ("x-1.0-py3-none-any.whl", True),
        ("x-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", True),
        ("x-1.0-cp310-abi3-manylinux_2_17_x86_64.whl", True),
        ("x-1.0-cp313-cp313-manylinux_2_17_x86_64.whl", False),
        ("x-1.0-cp311-cp311-win_amd64.whl", False),
        ("x-1.0-cp311-cp311-manylinux_2_17_aarch64.whl", False),
        ("x-1.0-cp311-cp311-musllinux_1_2_x86_64.whl", True),
        ("x-1.0-cp312-cp312-macosx_11_0_arm64.whl", False),
        ("x-1.0.tar.gz", True),
    ],
)
def test_only_wheels_a_target_can_install_are_mirrored(filename: str, fits: bool) -> None:
    assert wheel_fits(filename, ["3.11", "3.12"], ["linux"]) is fits


def test_uvs_annotations_give_each_pin_its_dependency_path() -> None:
    text = (
        "app==3.0  # via -r /tmp/x/requirements.in\n"
        "libdep==1.1  # via app\n"
        "leaf==2.0  # via libdep, other\n"
        "other==1.0  # via -r /tmp/x/requirements.in\n"
    )
    pins, parents = parse_compiled(text)
    assert pins == {"app": "3.0", "libdep": "1.1", "leaf": "2.0", "other": "1.0"}
    assert _path("leaf", parents) == ("app", "libdep", "leaf")
    assert _path("app", parents) == ("app",)


def test_a_page_the_mirror_writes_reads_back_with_hashes_and_metadata() -> None:
    served = ServedFile("x-1.0-py3-none-any.whl", "ab" * 32, 10, ">=3.8", "", "cd" * 32)
    html = project_html("x", [served])
    [(attrs, text)] = _ANCHOR.findall(html)
    file = _html_file("https://m.example.org/pypi/simple/x/", attrs, text)
    assert file is not None
    assert file.url == "https://m.example.org/pypi/files/x-1.0-py3-none-any.whl"
    assert (file.sha256, file.metadata_sha256, file.requires_python) == (
        "ab" * 32,
        "cd" * 32,
        ">=3.8",
    )


def test_what_a_users_env_asks_for_is_taken_as_plain_specs_only(tmp_path: Path) -> None:
    """The builder runs as the administrator: a user's manifest cannot send it to a URL,
    a file or another channel (such a request is left out and named)."""
    from jupyter_userpkg.core.mirror.records import Group, Need
    from jupyter_userpkg.core.mirror.seeds import _plain

    asked = Group(
        Need("u", "e"),
        pypi=("app==2.0", "x @ https://elsewhere.example.org/x.whl", "y\n--index-url http://h"),
        conda=("bar ==1.0", "numpy >=1.2,<2", "other::x", "https://elsewhere.example.org/x.conda"),
        locked=(("pypi", "a", "1.0"), ("pypi", "../a", "1.0")),
    )
    notes: list[str] = []
    plain = _plain(asked, notes, tmp_path)
    assert plain.pypi == ("app==2.0",)
    assert plain.conda == ("bar ==1.0", "numpy >=1.2,<2")
    assert plain.locked == (("pypi", "a", "1.0"),)
    assert len(notes) == 4 and all(n.startswith(f"not checked: {tmp_path} asks for") for n in notes)


def test_what_cannot_be_read_is_named_not_checked(tmp_path: Path) -> None:
    from jupyter_userpkg.core.mirror.config import load_config
    from jupyter_userpkg.core.mirror.seeds import collect

    broken = tmp_path / "home" / "u" / "envs" / "e" / ".userpkg" / "revisions" / "0"
    broken.mkdir(parents=True)
    (broken / "manifest.toml").write_text("this is [not toml\n")
    (tmp_path / "bad.txt").write_text("ok-name\nnot a requirement ===\n")
    config = tmp_path / "m.toml"
    config.write_text(
        f'output = "{tmp_path / "out"}"\n[seed]\n'
        f'requirements = ["{tmp_path / "bad.txt"}", "{tmp_path / "none-*.txt"}"]\n'
        f'envs = ["{tmp_path / "home"}/*/envs"]\n'
    )
    groups, notes = collect(load_config(config))
    assert [g.pypi for g in groups] == [("ok-name",)]
    assert (
        notes[0]
        == f"not checked: {tmp_path / 'bad.txt'}:2 'not a requirement ===' is not a requirement"
    )
    assert notes[1] == f"not checked: {tmp_path / 'none-*.txt'} matches nothing"
    assert notes[2].startswith(f"not checked: {tmp_path / 'home' / 'u' / 'envs' / 'e'} (")
