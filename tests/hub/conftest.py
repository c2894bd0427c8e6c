"""One real JupyterHub per test module, with users ``alice`` and ``bob``.

A module changes what its hub gives every user's server by overriding the
module-scoped fixtures ``hub_environment`` (extra ``Spawner.environment``
entries), ``hub_server_args`` (extra arguments of ``jupyterhub-singleuser``,
e.g. ``--UserPkg.default_index=...``) and ``hub_private_etc`` (a dir whose
``etc-upper/jupyter`` the hub and every server see as ``/etc/jupyter``, see
``tests/namespace.py``)::

    @pytest.fixture(scope="module")
    def hub_private_etc(tmp_path_factory):
        base = tmp_path_factory.mktemp("etc")
        upper, _ = namespace.etc_dirs(base)
        (upper / "jupyter" / "jupyter_userpkg_policy.json").write_text(...)
        return base
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub.hubproc import Hub
from tests.localindex import LocalIndex, build_wheel

# Jupyter and XDG dirs in the hub's own environment: no user's server may use them.
LEAKABLE = ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME")


@pytest.fixture(scope="module")
def hub_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    """A loopback PyPI-style index with ``hubpkg`` 1.0 and 2.0."""
    wheels = tmp_path_factory.mktemp("hub-wheels")
    for version in ("1.0", "2.0"):
        build_wheel(wheels, "hubpkg", version)
    with LocalIndex(wheels) as index:
        yield index


@pytest.fixture(scope="module")
def hub_environment() -> dict[str, str]:
    """Extra ``Spawner.environment`` of the module's hub (none here)."""
    return {}


@pytest.fixture(scope="module")
def hub_private_etc() -> Path | None:
    """The module's own /etc/jupyter (none: the machine's)."""
    return None


@pytest.fixture(scope="module")
def hub_server_args(hub_index: LocalIndex) -> list[str]:
    """Extra arguments of every single-user server: the loopback index is the users' PyPI."""
    return [f"--UserPkg.default_index={hub_index.url}"]


@pytest.fixture(scope="module")
def hub_own_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``LEAKABLE`` variables, set in the hub's environment, each to a dir of its own."""
    base = tmp_path_factory.mktemp("hub-own")
    return {key: base / key.lower() for key in LEAKABLE}


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory,
    hub_environment: dict[str, str],
    hub_server_args: list[str],
    hub_own_dirs: dict[str, Path],
    hub_private_etc: Path | None,
) -> Iterator[Hub]:
    """A running hub (no user's server started yet); stopped with all it started."""
    hub = Hub(
        tmp_path_factory.mktemp("hub"),
        environment=hub_environment,
        args=hub_server_args,
        hub_env={key: str(path) for key, path in hub_own_dirs.items()},
        private_etc=hub_private_etc,
    )
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture(scope="module")
def hub_tokens(hub: Hub) -> dict[str, str]:
    """Every user's server started (at once); a token of each user's, by name."""
    hub.start_servers(*hub.users)
    return {user: hub.token(user) for user in hub.users}
