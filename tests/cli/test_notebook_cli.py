"""A notebook records its env from a terminal and is restored from it, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CLI, installed


def test_export_into_a_notebook_then_create_from_it(cli: CLI, tmp_path: Path) -> None:
    cli("create", "work", "--kind", "venv", "--no-kernel", "six", "-y")
    nb = tmp_path / "analysis.ipynb"
    cells = [{"cell_type": "code", "source": "import six", "metadata": {}, "outputs": []}]
    nb.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert cli("export", "-n", "work", "--format", "notebook", str(nb)).stdout == f"wrote {nb}\n"
    saved = json.loads(nb.read_text())
    assert saved["cells"] == cells and saved["metadata"]["userpkg"]["requests"]["pypi"] == ["six"]
    made = cli("create", "copy", "--no-kernel", "--from", str(nb), "-y").stdout
    assert "its lock is installed exactly" in made
    assert installed(cli.envs_dir, "copy") == installed(cli.envs_dir, "work")
    wrong = cli("export", "-n", "work", "--format", "lock", str(nb), check=False)
    assert wrong.returncode != 0 and "--format notebook only" in wrong.stderr
    assert "Traceback" not in wrong.stderr
