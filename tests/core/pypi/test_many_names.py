"""Many names in one PyPI request: the index is asked about each name a bounded number
of times, every missing name is reported at once, and a request has a size limit."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_userpkg.core.errors import InvalidRequest, PackageNotFound
from jupyter_userpkg.core.options import UvOptions
from jupyter_userpkg.core.service import UserPkgService
from tests.conftest import env_state
from tests.localindex import LocalIndex, build_wheel

pytestmark = pytest.mark.slow

MISSING = 60


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    wheels = tmp_path_factory.mktemp("wheels")
    build_wheel(wheels, "here", "1.0")
    with LocalIndex(wheels) as served:
        yield served


def _service(tmp_path: Path, index: LocalIndex) -> UserPkgService:
    options = UvOptions(cache_dir=str(tmp_path / "uv-cache"), default_index=index.url)
    return UserPkgService(
        tmp_path / "envs",
        base_python=sys.executable,
        lock_timeout=600,
        kernels_dir=tmp_path / "kernels",
        uv_options=options,
    )


def test_missing_names_cost_the_index_a_few_requests_each(
    tmp_path: Path, index: LocalIndex
) -> None:
    """60 names the index lacks (and one it has): fewer than 10 requests per name, one
    error naming all 60, the env as it was."""
    svc = _service(tmp_path, index)
    svc.create("m", kind="venv", kernel=False)
    before = env_state(svc.store.envs_dir, "m")
    missing = [f"absent-{i:03d}" for i in range(MISSING)]
    index.requests.clear()
    with pytest.raises(PackageNotFound) as err:
        svc.change("m", install=[*missing[:30], "here", *missing[30:]])
    asked = len(index.requests)
    print(f"{MISSING} missing names: {asked} requests to the index")
    assert asked < 10 * MISSING, asked
    assert err.value.message == "package not found on the index: " + ", ".join(missing)
    assert env_state(svc.store.envs_dir, "m") == before
    assert svc.store.revisions("m") == [0]


def test_a_request_holds_at_most_500_names(tmp_path: Path, index: LocalIndex) -> None:
    """Refused before anything is asked of the index, in one line."""
    svc = _service(tmp_path, index)
    svc.create("c", kind="venv", kernel=False)
    index.requests.clear()
    with pytest.raises(InvalidRequest) as err:
        svc.change("c", install=[f"name-{i}" for i in range(501)])
    assert err.value.message == "at most 500 packages in one request; split it"
    assert index.requests == []
