"""The administrator's mirror in a notebook: ``%userpkg install`` of a package the mirror
lacks is one red line saying so and how to ask for it; ``%userpkg search`` answers from
the mirror's search index.  A real kernel, the policy in the administrator's dir."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from jupyter_userpkg.core.mirror.searchindex import FILENAME, Entry, render
from tests.localindex import LocalIndex, build_wheel
from tests.magics.conftest import Kernel

pytestmark = pytest.mark.slow

HELP = "ask for it in the #packages channel"


def test_the_magic_says_what_the_mirror_lacks_and_searches_it(
    kernel: Kernel, userpkg_env: Path, tmp_path: Path, admin_policy: Callable[..., Path]
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "mirrmag", "1.0")
    index_file = tmp_path / "mirror" / FILENAME
    index_file.parent.mkdir()
    index_file.write_text(render([Entry("mirrmag", "pypi", "mirrmag", ("1.0",), "In it")]))
    with LocalIndex(wheels) as index:
        admin_policy(
            {
                "indexes": [index.url],
                "mirror": True,
                "mirror_request_help": HELP,
                "search_index": str(index_file),
            }
        )
        kernel.run("%load_ext jupyter_userpkg")
        refused = kernel.run("%userpkg install mirrnone")
        assert refused.errors == [] and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        assert refused.stderr.startswith(
            "userpkg: error: mirrnone is not in the administrator's package mirror"
        )
        assert refused.stderr.rstrip().endswith(HELP)
        found = kernel.run("%userpkg search mirr --pypi")
        assert found.stdout.splitlines()[1].split()[:3] == ["mirrmag", "1.0", "pypi"]
        assert "in the administrator's package mirror: all of these" in found.stdout
    assert not (userpkg_env / "default").exists()  # the refused first change made nothing
