"""An imported lock's artifact URLs are used only where the configured indexes serve files."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from jupyter_userpkg.core.errors import PackageNotFound
from jupyter_userpkg.core.options import UvOptions
from jupyter_userpkg.core.pypi import uv as uvbackend
from tests.localindex import LocalIndex, build_wheel

pytestmark = pytest.mark.slow


def lock_for(name: str, version: str, url: str, digest: str) -> str:
    return (
        'lock-version = "1.0"\ncreated-by = "elsewhere"\n\n[[packages]]\n'
        f'name = "{name}"\nversion = "{version}"\n'
        f'wheels = [{{ url = "{url}", hashes = {{ sha256 = "{digest}" }} }}]\n'
    )


def test_a_version_missing_from_the_index_is_not_fetched_from_the_locks_url(
    tmp_path: Path,
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "tinypkg", "1.0")
    elsewhere = build_wheel(tmp_path, "tinypkg", "9.9")  # not on the index
    digest = hashlib.sha256(elsewhere.read_bytes()).hexdigest()
    prefix = tmp_path / "env"
    uvbackend.create_venv(prefix, sys.executable)
    python = str(uvbackend.env_python(prefix))
    with LocalIndex(wheels) as index:
        options = UvOptions(default_index=index.url, cache_dir=str(tmp_path / "uv-cache"))
        lock = lock_for("tinypkg", "9.9", f"http://127.0.0.1:9/{elsewhere.name}", digest)
        with pytest.raises(PackageNotFound) as err:
            uvbackend.sync(python, lock, options=options)
    assert "not on a configured index" in err.value.message
    assert "http://127.0.0.1:9/" in err.value.message


@pytest.mark.parametrize(
    ("url", "index", "served"),
    [
        ("https://files.pythonhosted.org/packages/x/six.whl", "", True),
        ("https://pypi.org/packages/x/six.whl", "", True),
        ("https://example.org/six.whl", "", False),
        ("https://mirror.example.org/files/six.whl", "https://mirror.example.org/simple", True),
        (
            "https://files.pythonhosted.org/packages/six.whl",
            "https://mirror.example.org/simple",
            False,
        ),
        ("file:///tmp/six.whl", "", False),
    ],
)
def test_which_urls_are_served_by_the_configured_indexes(
    url: str, index: str, served: bool
) -> None:
    assert uvbackend.served(url, UvOptions(default_index=index)) is served
