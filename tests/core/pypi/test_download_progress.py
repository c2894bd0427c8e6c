"""Progress a user can read while uv downloads: packages prepared of the plan's, bytes of
the known total, from a real uv and a local index that serves files slowly."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_userpkg.commands.render import progress_text
from jupyter_userpkg.core.events import ProgressEvent
from jupyter_userpkg.core.options import CondaOptions, UvOptions
from jupyter_userpkg.core.service import UserPkgService
from tests.localindex import LocalIndex, build_wheel

pytestmark = pytest.mark.slow


@pytest.fixture
def slow_index(tmp_path: Path) -> Iterator[tuple[LocalIndex, dict[str, int]]]:
    """Three wheels of known sizes, on an index that gives their sizes (PEP 691)."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    sizes = {}
    for name, padding in (("big-one", 900_000), ("mid-one", 400_000), ("small-one", 0)):
        requires = ["mid-one", "small-one"] if name == "big-one" else []
        wheel = build_wheel(
            wheels, name.replace("-", "_"), "1.0", padding=padding, requires=requires
        )
        sizes[name] = wheel.stat().st_size
    with LocalIndex(wheels, json=True) as index:
        index.slow = 0.02  # about 3 s for the big file: the watch sees each finish
        yield index, sizes


def _service(envs: Path, index: LocalIndex, cache: Path, conda: CondaOptions) -> UserPkgService:
    return UserPkgService(
        envs,
        base_python=sys.executable,
        kernels_dir=envs.parent / "kernels",
        conda_options=conda,
        uv_options=UvOptions(default_index=index.url, cache_dir=str(cache)),
    )


def test_downloads_count_packages_and_bytes_of_the_plan(
    tmp_path: Path,
    slow_index: tuple[LocalIndex, dict[str, int]],
    conda_options: CondaOptions,
) -> None:
    index, sizes = slow_index
    svc = _service(tmp_path / "envs", index, tmp_path / "uv-cache", conda_options)
    svc.create("e", kind="venv", kernel=False)
    events: list[ProgressEvent] = []
    result = svc.change("e", install=["big-one"], progress=events.append)
    assert result.plan.download_bytes == sum(sizes.values())

    counted = [e for e in events if e.phase == "download" and e.total is not None]
    total = sum(sizes.values())
    assert {e.total for e in counted} == {total}
    assert counted[0].done == 0 and counted[0].message == "downloading 3 packages"
    assert counted[-1].done == total
    done = [e.done or 0 for e in counted]
    assert done == sorted(done) and len(set(done)) == 4  # 0, then once per package
    assert [e.message.split(" (")[1] for e in counted[1:]] == [
        f"{n} of 3 packages)" for n in (1, 2, 3)
    ]
    # Each step is one package's size: what finished, never a guess inside a file.
    steps = {e.package: e.done - before for e, before in zip(counted[1:], done, strict=False)}
    assert steps == {name: size for name, size in sizes.items()}
    line = progress_text(counted[-1])
    assert line.endswith("(1.2 MB/1.2 MB, 100%)"), line

    # From a warm cache nothing is downloaded, and no download is counted.
    svc.create("f", kind="venv", kernel=False)
    again: list[ProgressEvent] = []
    svc.change("f", install=["big-one"], progress=again.append)
    assert not [e for e in again if e.phase == "download" and e.total is not None]
