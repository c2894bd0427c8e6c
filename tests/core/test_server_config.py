"""The admin guide's Configuration section for the server: it reads the same
``jupyter_userpkg_config.*`` files as the CLI, and then the Jupyter server's own config,
which wins over them, even over a file listed earlier in the Jupyter config path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.core.policy import sources as policysource
from jupyter_userpkg.core.service import UserPkgService
from tests.localindex import LocalIndex, build_wheel


@pytest.fixture
def indexes(tmp_path: Path) -> Iterator[tuple[LocalIndex, LocalIndex, LocalIndex]]:
    """The server's index (alpha 1.0), the one of the shared config files (alpha 2.0) and an
    extra index (empty)."""
    served = []
    for version in ("1.0", "2.0", ""):
        directory = tmp_path / f"wheels-{version or 'none'}"
        directory.mkdir()
        if version:
            build_wheel(directory, "alpha", version)
        served.append(LocalIndex(directory).__enter__())
    yield served[0], served[1], served[2]
    for index in served:
        index.__exit__()


@pytest.fixture
def jp_server_config(
    tmp_path: Path,
    jp_config_dir: Path,
    jp_system_config_path: Path,
    indexes: tuple[LocalIndex, LocalIndex, LocalIndex],
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    server_index, shared_index, extra_index = indexes
    # pytest-jupyter's system config dir stands in for /etc/jupyter, the administrator's.
    monkeypatch.setattr(policysource, "admin_dirs", lambda: [jp_system_config_path])
    # The user's own directory, first in the config path: read by the CLI and the server.
    (jp_config_dir / "jupyter_userpkg_config.json").write_text(
        json.dumps(
            {
                "UserPkg": {
                    "default_index": shared_index.url,
                    "extra_index_urls": [extra_index.url],
                    "lock_timeout": 7,
                    "uv_cache_dir": str(tmp_path / "uv-cache"),
                }
            }
        )
    )
    # The server's own config, in the system's directory, last in the path: it still wins.
    jp_system_config_path.mkdir(parents=True, exist_ok=True)
    (jp_system_config_path / "jupyter_server_config.json").write_text(
        json.dumps({"UserPkg": {"default_index": server_index.url}})
    )
    # What the server's command line sets (the highest of all).
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_userpkg": True}},
        "UserPkg": {"envs_dir": str(tmp_path / "envs"), "kernels_dir": str(tmp_path / "k")},
    }


def test_the_servers_own_config_wins_over_the_shared_config_files(
    jp_serverapp: Any, tmp_path: Path, indexes: tuple[LocalIndex, LocalIndex, LocalIndex]
) -> None:
    server_index = indexes[0]
    service: UserPkgService = jp_serverapp.web_app.settings["userpkg_service"]
    assert service.uv.default_index == server_index.url  # jupyter_server_config.json
    # The system dir's index is the administrator's (policy): the user's extra index, which
    # would add a source the administrator did not choose, is not used.
    assert service.uv.extra_index_urls == ()
    assert service.policy.origins["indexes"].endswith("jupyter_server_config.json")
    assert service.lock_timeout == 7  # only in jupyter_userpkg_config.json: it applies
    assert service.store.envs_dir == tmp_path / "envs"  # the command line
    # And uv really goes to the server's index: alpha 1.0 there, 2.0 on the other.
    service.create("e", kind="venv", kernel=False)
    plan = service.change("e", install=["alpha"], dry_run=True).plan
    assert [(c.name, c.new) for c in plan.changes] == [("alpha", "1.0")]
