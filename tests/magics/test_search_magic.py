"""``%userpkg search`` and ``%userpkg info`` in a real kernel, against a loopback index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.magics.conftest import Kernel
from tests.searchindex import Project, SearchIndex

pytestmark = pytest.mark.slow


def test_search_and_info_in_a_cell(kernel: Kernel, userpkg_env: Path) -> None:
    served = SearchIndex(
        [
            Project("scikit-learn", "Machine learning", {"1.5.0": (">=3.9", False)}),
            Project("scikit-learn-extra", "More estimators", {"0.3.0": (None, False)}),
        ]
    )
    try:
        config = userpkg_env.parent / "config"
        config.mkdir(parents=True, exist_ok=True)
        settings = {
            "default_index": served.url,
            "default_channels": [],
            "search_cache_dir": str(userpkg_env.parent / "search-cache"),
        }
        (config / "jupyter_userpkg_config.json").write_text(json.dumps({"UserPkg": settings}))
        kernel.run("%load_ext jupyter_userpkg")
        cell = kernel.run("%userpkg search Scikit_Learn --pypi")
        assert cell.errors == [] and cell.stderr == "", cell.stderr
        rows = [line.split()[:3] for line in cell.stdout.splitlines()[1:]]
        assert rows == [["scikit-learn", "1.5.0", "pypi"], ["scikit-learn-extra", "0.3.0", "pypi"]]
        cell = kernel.run("%userpkg info scikit-learn")
        assert cell.stdout.startswith(f"scikit-learn 1.5.0  ({served.url})\n  Machine learning\n")
        cell = kernel.run("%userpkg search scikit --json")
        data = json.loads(cell.stdout)
        assert [r["name"] for r in data["results"]] == ["scikit-learn", "scikit-learn-extra"]
        cell = kernel.run("%userpkg info 'not a name'")
        assert cell.errors == [] and len(cell.stderr.strip().splitlines()) == 1
        assert cell.stderr.startswith("userpkg: error: 'not a name' is not a valid package name")
    finally:
        served.stop()
