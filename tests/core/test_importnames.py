"""Import names of installed distributions, from their own files (top_level.txt, RECORD)."""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_userpkg.core.importnames import import_names, plan_modules, required_by


def dist(site: Path, name: str, version: str, top_level: str | None, record: list[str]) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    if top_level is not None:
        (info / "top_level.txt").write_text(top_level)
    rows = [*record, f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(rows) + "\n")


def test_names_from_top_level_then_record(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    dist(site, "python-slugify", "8.0.4", "slugify\n", ["slugify/__init__.py,,"])
    dist(site, "PyYAML", "6.0", None, ["yaml/__init__.py,,", "_yaml/__init__.py,,", "x.pth,,"])
    dist(site, "six", "1.16", None, ["six.py,,", "__pycache__/six.cpython-311.pyc,,"])
    found = import_names([site], ["Python_Slugify", "pyyaml", "six", "not-installed"])
    assert found == {"Python_Slugify": ["slugify"], "pyyaml": ["_yaml", "yaml"], "six": ["six"]}
    plan = {
        "changes": [
            {"name": "python-slugify", "action": "change", "old": "8.0.4", "new": "8.1"},
            {"name": "six", "action": "remove", "old": "1.16", "new": None},
            {"name": "PyYAML", "action": "add", "old": None, "new": "6.0"},
        ]
    }
    # What is added has no files yet, and replaces nothing.
    assert plan_modules(tmp_path, plan) == {"python-slugify": ["slugify"], "six": ["six"]}
    assert plan_modules(tmp_path, {"changes": []}) == {}


def test_what_needs_a_package(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    dist(site, "wcwidth", "0.2", None, ["wcwidth/__init__.py,,"])
    dist(site, "prompt-toolkit", "3.0", None, ["prompt_toolkit/__init__.py,,"])
    meta = next(site.glob("prompt_toolkit-*.dist-info")) / "METADATA"
    meta.write_text(meta.read_text() + "Requires-Dist: wcwidth\n")
    dist(site, "extras-only", "1.0", None, ["extras_only/__init__.py,,"])
    meta = next(site.glob("extras_only-*.dist-info")) / "METADATA"
    meta.write_text(meta.read_text() + 'Requires-Dist: WCWidth>=0.1; extra == "tty"\n')
    conda = tmp_path / "conda-meta"
    conda.mkdir()
    (conda / "bar-1.0-0.json").write_text(json.dumps({"name": "bar", "depends": ["libfoo >=2"]}))
    (conda / "broken.json").write_text("{")
    assert required_by(tmp_path, "WCWIDTH") == ["prompt-toolkit"]
    assert required_by(tmp_path, "libfoo") == ["bar"]
    assert required_by(tmp_path, "prompt_toolkit") == []
    assert required_by(tmp_path / "nowhere", "x") == []
