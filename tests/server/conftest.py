"""A real Jupyter server with the extension enabled, over an isolated envs dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def jp_server_config(tmp_path: Path) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_userpkg": True}},
        "UserPkg": {"envs_dir": str(tmp_path / "envs")},
    }
