"""The README's CLI tour, verb by verb, through the real command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import CLI, installed
from tests.localindex import LocalIndex

pytestmark = pytest.mark.slow


def test_cli_tour(cli: CLI, tmp_path: Path, pin_index: LocalIndex) -> None:
    assert cli.json("envs") == []
    # Finding a package first: PyPI's names, ranked; then one package's details.
    found = cli.json("search", "slugify", "--pypi", "--limit", "3")
    assert [r["match"] for r in found["results"]][:1] == ["exact"]  # type: ignore[index]
    info = cli.json("info", "python-slugify")
    assert info["source"] == "pypi" and "8.0.4" in info["versions"]  # type: ignore[index]
    # No -n: the default layer env, created on first use.
    dry = cli.json("install", "--dry-run", "python-slugify")
    assert dry["applied"] is False  # type: ignore[index]
    assert {c["name"] for c in dry["plan"]["changes"]} == {  # type: ignore[index]
        "python-slugify",
        "text-unidecode",
    }
    # A dry run, like every read, leaves the envs dir as it was: no default env yet.
    assert not (cli.envs_dir / "default").exists()
    assert cli.json("history") == [] and cli.json("envs") == []
    assert any(p["name"] == "jupyter-core" for p in cli.json("list"))  # type: ignore[attr-defined, union-attr, index]
    for args in (("rollback", "3"), ("remove", "six"), ("update", "tabulate")):
        assert cli(*args, check=False).returncode == 1
    assert not (cli.envs_dir / "default").exists()
    out = cli("install", "python-slugify").stdout
    assert "+ python-slugify" in out and "Done: revision 1." in out
    envs = cli.json("envs")
    assert envs[0]["name"] == "default" and envs[0]["kind"] == "layer"  # type: ignore[index]
    assert envs[0]["revision"] == 1 and envs[0]["packages"] == 2  # type: ignore[index]
    pkgs = {p["name"]: p for p in cli.json("list")}  # type: ignore[attr-defined, union-attr]
    assert pkgs["python-slugify"]["requested"] and pkgs["python-slugify"]["source"] == "pypi"
    assert not pkgs["text-unidecode"]["requested"]
    assert pkgs["jupyter-core"]["source"] == "base"
    # A no-op install says so and records nothing.
    out = cli("install", "python-slugify").stdout
    assert "nothing to change" in out
    assert len(cli.json("history")) == 2  # type: ignore[arg-type]

    # Versions that move: from a local index (the rest still comes from PyPI).
    cli.configure(extra_index_urls=[pin_index.url])
    cli("create", "tools", "--kind", "venv", "pinpkg<2")
    cli("update", "-n", "tools", "pinpkg")  # pinned by the spec: nothing moves
    cli("install", "-n", "tools", "pinpkg")
    upd = cli.json("update", "-n", "tools", "pinpkg")
    changes = upd["plan"]["changes"]  # type: ignore[index]
    assert [(c["name"], c["action"], c["new"]) for c in changes] == [("pinpkg", "change", "2.0")]
    history = cli.json("history", "-n", "tools")
    assert [r["revision"] for r in history] == [0, 1, 2]  # type: ignore[union-attr, index]
    cli("rollback", "-n", "tools", "0")
    assert installed(cli.envs_dir, "tools")["pinpkg"] == "1.1"

    req = tmp_path / "req.txt"
    cli("export", "-n", "tools", "-o", str(req))
    assert "pinpkg==1.1" in req.read_text()
    env_yml = tmp_path / "environment.yml"
    cli("export", "-n", "tools", "--format", "environment", "-o", str(env_yml))
    cli("create", "copy", "--kind", "venv", "--from", str(env_yml))
    assert installed(cli.envs_dir, "copy") == installed(cli.envs_dir, "tools")
    lock = json.loads(cli("export", "-n", "copy", "--format", "lock", "--json").stdout)
    assert 'name = "pinpkg"' in lock["text"]

    doctor = cli.json("doctor")
    assert all(r["ok"] for r in doctor)  # type: ignore[union-attr, index]
    cli("delete", "copy")
    assert [e["name"] for e in cli.json("envs")] == ["default", "tools"]  # type: ignore[union-attr, index]


def test_help_and_usage(cli: CLI) -> None:
    out = cli("--help").stdout
    for verb in (
        "envs",
        "create",
        "install",
        "remove",
        "update",
        "list",
        "history",
        "rollback",
        "export",
        "delete",
        "search",
        "info",
        "doctor",
    ):
        assert verb in out
    proc = cli("update", check=False)
    assert proc.returncode != 0 and "update needs package names or --all" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_jupyter_dispatches_to_the_cli(cli: CLI) -> None:
    import subprocess

    jupyter = Path(sys.executable).with_name("jupyter")
    proc = subprocess.run(
        [str(jupyter), "userpkg", "envs", "--json"], env=cli.env(), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_list_of_a_layer_shows_its_own_and_counts_the_base(cli: CLI) -> None:
    """The default layer sees the whole base: the text lists the env's own, JSON all."""
    cli("install", "python-slugify")
    everything = cli.json("list")
    base = [p for p in everything if p["source"] == "base" and not p["requested"]]  # type: ignore[index, union-attr]
    text = cli("list").stdout.splitlines()
    assert any(line.startswith("python-slugify ") for line in text)
    assert text[-1] == (
        f"... and {len(base)} packages of the base environment (`list --base` shows them)"
    )
    assert len(cli("list", "--base").stdout.splitlines()) == len(everything) + 1  # type: ignore[arg-type]
