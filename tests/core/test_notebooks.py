"""Notebooks that carry their env: metadata.userpkg written, read back as untrusted input,
restored from the lock when the policy allows every record and from the requests otherwise;
juv notebooks and marimo scripts read for their PEP 723 requests.

Real uv against the loopback index of ``pin_index`` (pinpkg 1.0/1.1/2.0 needing pindep).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.core.errors import InvalidRequest, InvalidSpec, PolicyDenied
from jupyter_userpkg.core.notebooks import LOCK_FORMAT, read_notebook, write_metadata
from jupyter_userpkg.core.options import CondaOptions, UvOptions
from jupyter_userpkg.core.policy.rules import from_data
from jupyter_userpkg.core.service import UserPkgService
from tests.localindex import LocalIndex


def notebook(path: Path, metadata: dict[str, Any], first_cell: str = "import pinpkg") -> Path:
    cells = [{"cell_type": "code", "source": first_cell, "metadata": {}, "outputs": []}]
    doc = {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(doc))
    return path


def versions(svc: UserPkgService, env: str) -> dict[str, str]:
    return {p.name: p.version for p in svc.packages(env) if p.source != "base"}


def service(envs_dir: Path, conda: CondaOptions, index: LocalIndex, **rules: Any) -> UserPkgService:
    return UserPkgService(
        envs_dir,
        base_python=sys.executable,
        lock_timeout=600,
        kernels_dir=envs_dir.parent / "kernels",
        conda_options=conda,
        uv_options=UvOptions(default_index=index.url),
        policy=from_data(rules, "test policy") if rules else None,
    )


def test_a_notebook_records_its_env_and_restores_it_exactly(
    pinned_svc: UserPkgService, tmp_path: Path
) -> None:
    """export --format notebook writes metadata.userpkg into the notebook, keeping its cells;
    create --from the notebook installs its lock exactly, and the plan says so."""
    pinned_svc.create("src", kind="venv", kernel=False, specs=["pinpkg<2"])
    nb = notebook(tmp_path / "analysis.ipynb", {"kernelspec": {"name": "userpkg-src"}})
    write_metadata(nb, json.loads(pinned_svc.export("src", "notebook")))
    saved = json.loads(nb.read_text())
    meta = saved["metadata"]["userpkg"]
    assert saved["cells"][0]["source"] == "import pinpkg"
    assert saved["metadata"]["kernelspec"] == {"name": "userpkg-src"}
    assert (meta["env"], meta["kind"], meta["requests"]["pypi"]) == ("src", "venv", ["pinpkg<2"])
    lock = meta["lock"]
    assert lock["format"] == LOCK_FORMAT
    assert hashlib.sha256(lock["text"].encode()).hexdigest() == lock["sha256"]
    result = pinned_svc.create("copy", kernel=False, from_file=str(nb))
    assert "installed exactly" in result.plan.messages[0]
    assert (
        versions(pinned_svc, "copy")
        == versions(pinned_svc, "src")
        == {
            "pinpkg": "1.1",
            "pindep": "2.0",
        }
    )
    assert pinned_svc.store.read_manifest("copy").pypi == pinned_svc.store.read_manifest("src").pypi


def test_a_lock_the_policy_refuses_is_restored_from_the_requests(
    envs_dir: Path, conda_options: CondaOptions, pin_index: LocalIndex, tmp_path: Path
) -> None:
    """A colleague's lock holds a version this user's policy refuses: the env is made from
    the notebook's requests instead (the newest allowed versions), and the plan says why."""
    open_svc = service(envs_dir, conda_options, pin_index)
    open_svc.create("src", kind="venv", kernel=False, specs=["pinpkg"])
    nb = notebook(tmp_path / "nb.ipynb", {})
    write_metadata(nb, json.loads(open_svc.export("src", "notebook")))
    assert versions(open_svc, "src")["pinpkg"] == "2.0"
    strict = service(
        envs_dir,
        conda_options,
        pin_index,
        blocked_versions=[{"name": "pinpkg", "versions": ">=2", "reason": "breaks the plots"}],
    )
    result = strict.create("mine", kernel=False, from_file=str(nb))
    assert "installed from its requests" in result.plan.messages[0]
    assert "pinpkg 2.0" in result.plan.messages[0]
    assert versions(strict, "mine")["pinpkg"] == "1.1"


def test_a_notebook_without_lock_text_is_made_from_its_requests(
    pinned_svc: UserPkgService, tmp_path: Path
) -> None:
    """Above the administrator's size, only the lock's digest is kept: the requests count."""
    pinned_svc.create("src", kind="venv", kernel=False, specs=["pinpkg==1.0"])
    pinned_svc.notebook_lock_max_bytes = 10
    meta = json.loads(pinned_svc.export("src", "notebook"))
    assert "text" not in meta["lock"] and meta["lock"]["sha256"]
    nb = notebook(tmp_path / "big.ipynb", {"userpkg": meta})
    result = pinned_svc.create("copy", kernel=False, from_file=str(nb), dry_run=True)
    assert "no lock text" in result.plan.messages[0]
    assert {c.name: c.new for c in result.plan.changes}["pinpkg"] == "1.0"


FORGED: list[tuple[dict[str, Any], str]] = [
    ({"requests": {"pypi": ["--index-url=https://evil.example/simple", "pinpkg"]}}, "option"),
    ({"requests": {"pypi": ["pinpkg @ https://evil.example/pinpkg-9.whl"]}}, "direct URL"),
    ({"requests": {"pypi": "pinpkg"}}, "requests.pypi must be a list"),
    ({"requests": {"conda": ["--override-channels"]}}, "not a package spec"),
    ({"channels": ["https://evil.example/ch --insecure"]}, "not a channel"),
    ({"kind": "rootkit"}, "not a kind"),
    ({"python": "3.11; rm -rf ~"}, "python must be a version"),
    ({"lock": {"format": "pip-freeze", "text": "x", "sha256": "0"}}, "lock.format"),
    (
        {"lock": {"format": LOCK_FORMAT, "text": "lock-version = '1.0'", "sha256": "0" * 64}},
        "sha256",
    ),
    ("not an object", "not an object"),
]


@pytest.mark.parametrize(("meta", "why"), FORGED)
def test_forged_metadata_is_refused_field_by_field(
    pinned_svc: UserPkgService, tmp_path: Path, meta: Any, why: str
) -> None:
    """A stranger's notebook is untrusted: each bad field is named, nothing is created."""
    nb = notebook(tmp_path / "forged.ipynb", {"userpkg": meta})
    with pytest.raises((InvalidSpec, InvalidRequest), match=why):
        pinned_svc.create("forged", kind="venv", kernel=False, from_file=str(nb))
    assert not pinned_svc.store.exists("forged")


def test_a_foreign_url_in_the_lock_is_refused(pinned_svc: UserPkgService, tmp_path: Path) -> None:
    """A lock whose wheel URL points off the configured index installs nothing."""
    pinned_svc.create("src", kind="venv", kernel=False, specs=["pindep==1.0"])
    meta = json.loads(pinned_svc.export("src", "notebook"))
    text = meta["lock"]["text"]
    index_url = text.split('url = "', 1)[1].split("/", 3)[:3]
    forged = text.replace("/".join(index_url), "https://evil.example")
    assert forged != text
    meta["lock"] = {
        "format": LOCK_FORMAT,
        "text": forged,
        "sha256": hashlib.sha256(forged.encode()).hexdigest(),
    }
    nb = notebook(tmp_path / "foreign.ipynb", {"userpkg": meta})
    with pytest.raises((InvalidSpec, PolicyDenied, InvalidRequest)):
        pinned_svc.create("foreign", kernel=False, from_file=str(nb))
    assert not pinned_svc.store.exists("foreign")


JUV_CELL = """# /// script
# requires-python = ">=3.11"
# dependencies = [
#     "pinpkg<1.1",
# ]
# ///"""


def test_juv_notebooks_and_marimo_scripts_are_read_for_their_requests(
    pinned_svc: UserPkgService, tmp_path: Path
) -> None:
    """juv keeps a PEP 723 block in the first cell (and uv's lock in metadata, which is not
    installed: the plan says so); marimo's scripts carry the block at their top."""
    nb = notebook(tmp_path / "juv.ipynb", {"uv.lock": "version = 1\n"}, first_cell=JUV_CELL)
    imported = read_notebook(nb)
    assert [str(r) for r in imported.requirements] == ["pinpkg<1.1"]
    assert imported.python == "3.11"
    result = pinned_svc.create("juv", kind="venv", kernel=False, from_file=str(nb))
    assert "uv.lock is not used" in result.plan.messages[0]
    assert versions(pinned_svc, "juv")["pinpkg"] == "1.0"
    script = tmp_path / "app.py"
    script.write_text(JUV_CELL + "\n\nimport marimo\napp = marimo.App()\n")
    pinned_svc.create("marimo", kind="venv", kernel=False, from_file=str(script))
    assert versions(pinned_svc, "marimo")["pinpkg"] == "1.0"
    block = pinned_svc.export("marimo", "pep723")
    assert block.startswith("# /// script\n") and '#     "pinpkg<1.1",' in block


def test_a_notebook_naming_no_env_says_how_to_make_one(
    pinned_svc: UserPkgService, tmp_path: Path
) -> None:
    nb = notebook(tmp_path / "plain.ipynb", {})
    with pytest.raises(InvalidSpec, match="export --format notebook"):
        pinned_svc.create("plain", kernel=False, from_file=str(nb))
    (tmp_path / "broken.ipynb").write_text("{not json")
    with pytest.raises(InvalidSpec, match="not a notebook"):
        pinned_svc.create("plain", kernel=False, from_file=str(tmp_path / "broken.ipynb"))
    assert not pinned_svc.store.exists("plain")
