"""The policy in a notebook: a kernel on an env that holds a version the policy now
refuses says so once, when it loads the magic, with the command that fixes it; the magic
refuses what the policy refuses, in one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from jupyter_userpkg.core.options import UvOptions
from jupyter_userpkg.core.service import UserPkgService
from tests.localindex import LocalIndex, build_wheel
from tests.magics.conftest import start_kernel

pytestmark = pytest.mark.slow


def test_a_kernel_is_told_once_and_the_fix_works(
    userpkg_env: Path, tmp_path: Path, admin_policy: Callable[..., Path]
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for version in ("1.0", "2.0"):
        build_wheel(wheels, "magpol", version)
    with LocalIndex(wheels) as index:
        kernels = tmp_path / "data" / "kernels"
        svc = UserPkgService(userpkg_env, kernels_dir=kernels, uv_options=UvOptions(index.url))
        svc.create("work", kind="layer", specs=["magpol"])  # 2.0, before the policy
        rule = {"name": "magpol", "versions": ">=2", "reason": "leaks tokens", "advisory": "MP-1"}
        admin_policy({"indexes": [index.url], "blocked_versions": [rule]})
        k = start_kernel("userpkg-work", kernels)
        try:
            loaded = k.run("%load_ext jupyter_userpkg")
            assert "environment 'work' holds magpol 2.0" in loaded.stderr
            assert "leaks tokens" in loaded.stderr and "MP-1" in loaded.stderr
            assert "fix: %userpkg update magpol -n work" in loaded.stderr
            assert k.run("%reload_ext jupyter_userpkg").stderr == ""  # once per kernel
            refused = k.run("%userpkg install magpol==2.0")
            assert refused.errors == [] and "Traceback" not in refused.stderr
            assert refused.stderr.startswith("userpkg: error: magpol 2.0 is blocked")
            assert "nearest allowed version is 1.0" in refused.stderr
            fixed = k.run("%userpkg update magpol -n work")
            assert "magpol" in fixed.text and "2.0 -> 1.0" in fixed.text, fixed.stderr
            assert "warning" not in k.run("%userpkg envs").stdout
        finally:
            k.kc.stop_channels()
            k.km.shutdown_kernel(now=True)
