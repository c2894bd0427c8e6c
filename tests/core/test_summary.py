"""A revision's summary: written at its commit, read by listings, not trusted once its
files change."""

from __future__ import annotations

import time
from pathlib import Path

from jupyter_userpkg.core.records import RevisionRecord
from jupyter_userpkg.core.store import EnvStore

MANIFEST = '[env]\nname = "s"\nkind = "venv"\npython = "3.11"\n'
LOCK = (
    'lock-version = "1.0"\n'
    '[[packages]]\nname = "Six"\nversion = "1.17.0"\n'
    '[[packages]]\nname = "tabulate"\nversion = "0.9.0"\n'
)
CONDA = "- conda: https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-h4ab18f5_1.conda\n"


def _commit(store: EnvStore, conda: str = "") -> Path:
    store.commit("s", MANIFEST, LOCK, RevisionRecord(0, "now", "create s", ()), conda)
    return store.revisions_dir("s") / "0"


def test_the_summary_is_what_the_files_say(tmp_path: Path) -> None:
    store = EnvStore(tmp_path)
    _commit(store, CONDA)
    listed = store.read_listed("s", 0)
    assert listed == {
        "kind": "venv",
        "python": "3.11",
        "packages": store.count_packages("s", 0),
        "held": [
            ("six", "1.17.0", "pypi"),
            ("tabulate", "0.9.0", "pypi"),
            ("zlib", "1.3.1", "conda"),
        ],
    }
    assert listed["packages"] == 3


def test_a_file_changed_since_its_commit_is_read_again(tmp_path: Path) -> None:
    store = EnvStore(tmp_path)
    revision = _commit(store)
    assert store.read_listed("s", 0) is not None
    time.sleep(0.01)
    (revision / "pylock.toml").write_text(LOCK)  # same text, written again
    assert store.read_listed("s", 0) is None
    (revision / "summary.json").unlink()
    assert store.read_listed("s", 0) is None
