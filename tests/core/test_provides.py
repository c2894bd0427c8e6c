"""``provides``: "No module named X" answered with the package that provides it, verified.

A loopback index the tests build serves wheels whose import names differ from
their distribution names; the answer must name the right package with its
evidence, reject a candidate whose RECORD installs something else, read wheels
with range requests, and never answer from a cache entry that is not valid.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from jupyter_userpkg.core.errors import InvalidSpec
from jupyter_userpkg.core.options import CondaOptions, UvOptions
from jupyter_userpkg.core.policy.rules import from_data
from jupyter_userpkg.core.provides import Sources, candidate_names, find_provider, import_name
from jupyter_userpkg.core.pypi.wheelfiles import record_modules
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import build_package, index_channel
from tests.localindex import LocalIndex, build_wheel


@pytest.fixture(scope="module")
def provides_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    """Wheels whose import names are not their names.

    - ``python-slugify`` installs ``slugify`` (the python-X form);
    - ``slugify`` exists too but installs ``slugify_other``: a wrong candidate;
    - ``python-declmod`` declares ``Import-Name: declmod`` (PEP 794); ``declared``
      installs ``declared`` and ``declmod`` but declares only ``Import-Name: declmod``;
    - ``twotops`` installs ``alpha_mod`` and ``beta_mod`` (two top-level modules);
    - ``pyblocked`` installs ``blockedmod`` and is blocked by the policy in one test.
    """
    wheels = tmp_path_factory.mktemp("provides-wheels")
    build_wheel(wheels, "python-slugify", "8.0.1", modules=["slugify"])
    build_wheel(wheels, "python-slugify", "8.0.4", modules=["slugify"])
    build_wheel(wheels, "slugify", "0.0.1", modules=["slugify_other"])
    build_wheel(wheels, "python-declmod", "1.0", modules=["declmod"], import_names=["declmod"])
    build_wheel(
        wheels, "declared", "1.0", modules=["declared", "declmod"], import_names=["declmod"]
    )
    build_wheel(wheels, "twotops", "2.0", modules=["alpha_mod", "beta_mod"])
    build_wheel(wheels, "alpha-mod-python", "1.0", modules=["alpha_modx"])
    build_wheel(wheels, "pyblockedmod", "1.0", modules=["blockedmod"])
    with LocalIndex(wheels) as index:
        yield index


def _sources(index: LocalIndex, cache: Path, **policy: object) -> Sources:
    return Sources(
        envs=(),
        base_dirs=(),
        uv=UvOptions(default_index=index.url),
        policy=from_data(dict(policy), "test"),
        cache=cache,
    )


def test_import_name_reads_the_error_text_and_refuses_what_is_not_a_module() -> None:
    assert import_name("No module named 'yaml.constructor'") == ("yaml", "yaml.constructor")
    assert import_name("slugify") == ("slugify", "slugify")
    for bad in ("", "a b", "../x", "x;rm -rf", "1abc"):
        with pytest.raises(InvalidSpec):
            import_name(bad)
    assert candidate_names("Foo_bar")[:5] == [
        "foo-bar",
        "python-foo-bar",
        "foo-bar-python",
        "pyfoo-bar",
        "py-foo-bar",
    ]


def test_python_x_found_by_its_record_and_the_wrong_candidate_rejected(
    provides_index: LocalIndex, tmp_path: Path
) -> None:
    provides_index.range_requests.clear()
    sources = _sources(provides_index, tmp_path)
    body = find_provider("No module named 'slugify'", "default", sources).to_dict()
    assert body["package"] == "python-slugify"
    assert body["confidence"] == "verified"
    assert body["evidence"]["kind"] == "record"
    assert body["evidence"]["version"] == "8.0.4"  # the newest wheel was read
    assert "python_slugify-8.0.4-py3-none-any.whl" in body["evidence"]["text"]
    assert body["install"] == "install -n default python-slugify"
    rejected = {c["name"]: c for c in body["candidates"]}["slugify"]
    assert rejected["verdict"] == "rejected"
    assert "slugify_other" in rejected["why"]
    # The wheels were read in parts: the tail first, never the whole file.
    asked = [header for path, header in provides_index.range_requests]
    assert asked and all(h.startswith("bytes=") for h in asked)
    assert any(h.startswith("bytes=-") for h in asked)


def test_import_name_metadata_is_evidence(provides_index: LocalIndex, tmp_path: Path) -> None:
    found = find_provider("declmod", "default", _sources(provides_index, tmp_path)).to_dict()
    assert found["package"] == "python-declmod"
    assert found["evidence"]["kind"] == "import-name"
    assert "Import-Name: declmod" in found["evidence"]["text"]
    # ``declared`` installs a ``declared`` dir, but declares only ``declmod``: the
    # declaration decides, not the RECORD.
    found = find_provider("declared", "default", _sources(provides_index, tmp_path)).to_dict()
    assert found["found"] is False
    verdict = {c["name"]: c for c in found["candidates"]}["declared"]
    assert verdict["verdict"] == "rejected"
    assert "Import-Name declmod" in verdict["why"]


def test_a_wheel_with_two_top_level_modules(provides_index: LocalIndex, tmp_path: Path) -> None:
    sources = _sources(provides_index, tmp_path)
    body = find_provider("twotops", "default", sources).to_dict()
    assert body["found"] is False  # installs alpha_mod and beta_mod, not twotops
    assert "alpha_mod, beta_mod" in body["candidates"][0]["why"]


def test_a_name_no_wheel_matches_says_so(provides_index: LocalIndex, tmp_path: Path) -> None:
    body = find_provider("nosuchthing", "default", _sources(provides_index, tmp_path)).to_dict()
    assert body["found"] is False
    assert body["package"] is None and body["install"] is None
    assert all(c["verdict"] == "absent" for c in body["candidates"])
    assert any("no package known to provide 'nosuchthing'" in n for n in body["notes"])


def test_a_blocked_package_is_named_with_the_refusal(
    provides_index: LocalIndex, tmp_path: Path
) -> None:
    sources = _sources(
        provides_index,
        tmp_path,
        blocked_packages=[{"name": "pyblockedmod", "reason": "unreviewed code"}],
    )
    body = find_provider("blockedmod", "default", sources).to_dict()
    assert body["package"] == "pyblockedmod"
    assert body["blocked"]["reason"] == "unreviewed code"


def test_the_wheel_cache_is_keyed_by_hash_and_validated(
    provides_index: LocalIndex, tmp_path: Path
) -> None:
    sources = _sources(provides_index, tmp_path)
    find_provider("slugify", "default", sources)
    entries = sorted((tmp_path / "wheels").rglob("*.json"))
    assert entries, "the read wheels are cached"
    provides_index.range_requests.clear()
    assert find_provider("slugify", "default", sources).to_dict()["package"] == "python-slugify"
    assert provides_index.range_requests == []  # warm: no wheel read again
    # A forged entry (say python-slugify installs "other"): not valid, read again.
    for entry in entries:
        data = json.loads(entry.read_text())
        data["modules"] = ["../../etc"]
        entry.write_text(json.dumps(data))
    body = find_provider("slugify", "default", sources).to_dict()
    assert body["package"] == "python-slugify"
    assert provides_index.range_requests, "entries that do not validate are read again"


def test_an_index_without_range_requests_still_answers(
    provides_index: LocalIndex, tmp_path: Path
) -> None:
    provides_index.ranges = False
    try:
        body = find_provider("slugify", "default", _sources(provides_index, tmp_path)).to_dict()
    finally:
        provides_index.ranges = True
    assert body["package"] == "python-slugify"


def test_installed_envs_answer_first_without_the_network(tmp_path: Path) -> None:
    site = tmp_path / "envs" / "work" / "lib" / "python3.11" / "site-packages"
    dist = site / "python_slugify-8.0.4.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: python-slugify\nVersion: 8.0.4\n")
    (dist / "top_level.txt").write_text("slugify\n")
    sources = Sources(
        envs=(("work", tmp_path / "envs" / "work"),),
        base_dirs=(),
        uv=UvOptions(default_index="http://127.0.0.1:9/simple"),  # nothing listens there
        policy=from_data({}, "test"),
        cache=tmp_path / "cache",
    )
    body = find_provider("slugify", "default", sources).to_dict()
    assert body["package"] == "python-slugify"
    assert body["evidence"]["kind"] == "installed"
    assert body["evidence"]["where"] == ["work"]
    assert "top_level.txt" in body["evidence"]["text"]
    # The names of the dir are cached for its mtime; a cache file is a hint, checked:
    # one that does not parse, and one well formed that names another package, are
    # both read again from the files.
    from jupyter_userpkg.core import installedimports

    cached = next((tmp_path / "cache" / "installed").glob("*.json"))
    data = json.loads(cached.read_text())
    for forged in (
        {"slugify": [["evil-package", "1", "RECORD"]], "../x": []},
        {"slugify": [["evil-package", "1", "RECORD", "python_slugify-8.0.4.dist-info"]]},
    ):
        cached.write_text(json.dumps({**data, "names": forged}))
        installedimports._memory.clear()
        again = find_provider("slugify", "default", sources).to_dict()
        assert again["package"] == "python-slugify", forged
    assert "evil-package" not in cached.read_text()  # written anew from the files


def test_the_administrators_shared_envs_are_evidence(tmp_path: Path) -> None:
    """A package in a shared env (what colleagues use on the hub) answers, named as such."""
    site = tmp_path / "shared" / "stack" / "lib" / "python3.11" / "site-packages"
    dist = site / "PyYAML-6.0.2.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.2\n")
    (dist / "RECORD").write_text("yaml/__init__.py,,\n_yaml/__init__.py,,\n")
    sources = Sources(
        envs=(),
        base_dirs=(),
        uv=UvOptions(default_index="http://127.0.0.1:9/simple"),
        policy=from_data({}, "test"),
        cache=tmp_path / "cache",
        shared=(("shared:stack", tmp_path / "shared" / "stack"),),
    )
    body = find_provider("_yaml", "default", sources).to_dict()
    assert body["package"] == "PyYAML"
    assert body["evidence"]["where"] == ["shared:stack"]
    assert (
        "installed in the shared env 'stack'; its RECORD provides _yaml" in body["evidence"]["text"]
    )


def test_record_modules_reads_top_levels() -> None:
    record = "\n".join(
        [
            "a/__init__.py,sha256=x,1",
            "b.py,sha256=x,1",
            "c.cpython-311-x86_64-linux-gnu.so,sha256=x,1",
            "d-1.0.dist-info/RECORD,,",
            "d-1.0.data/scripts/x,sha256=x,1",
            "../../bin/evil,sha256=x,1",
        ]
    )
    assert record_modules(record) == ("a", "b", "c")


def test_the_service_answers_from_the_base(tmp_path: Path) -> None:
    """The test venv's own packages (the base) answer ``import yaml`` with PyYAML."""
    svc = UserPkgService(tmp_path / "envs", base_python=sys.executable)
    body = svc.provides("No module named 'yaml'").to_dict()
    assert body["package"].lower() == "pyyaml"
    assert body["evidence"]["where"] == ["base"]


def test_a_conda_env_looks_in_its_channels(
    provides_index: LocalIndex, tmp_path: Path, conda_options: CondaOptions
) -> None:
    """The same derived names in the env's channels: ``python-slugify`` is verified by its
    PyPI project's RECORD; ``pycondaonly`` is only a conda name: ``probably``."""
    channel = tmp_path / "channel"
    for name in ("python-slugify", "pycondaonly"):
        build_package(channel, name, "1.0", noarch="python", files={"info-only.txt": "x"})
    index_channel(channel)
    sources = _sources(provides_index, tmp_path / "cache")
    sources = replace(sources, channels=(channel.as_uri(),), conda=conda_options)
    body = find_provider("slugify", "sci", sources).to_dict()
    first = body["providers"][0]
    assert (first["package"], first["source"], first["confidence"]) == (
        "python-slugify",
        "conda",
        "verified",
    )
    assert first["evidence"]["kind"] == "conda-channel"
    assert body["install"] == "install -n sci python-slugify"
    # The PyPI project is offered too, with --pypi for a conda env.
    assert [p["source"] for p in body["providers"]] == ["conda", "pypi"]
    body = find_provider("condaonly", "sci", sources).to_dict()
    assert (body["package"], body["confidence"]) == ("pycondaonly", "probably")
    assert "was not verified" in body["evidence"]["text"]
