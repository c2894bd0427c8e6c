"""Server configuration of the browser tests (``jlpm start`` in ui-tests/).

Everything the extension writes goes to a fresh directory of this run:
environments, kernelspecs and the uv, conda and search caches.  conda
environments use a small channel built here at start-up (the same one the
Python tests use); PyPI packages come from PyPI through real uv, which answers
as of a fixed date (``EXCLUDE_NEWER``) so that the versions in the snapshots
stay put.

``USERPKG_UI_RUN_DIR`` names the directory to use (playwright.config.js gives
each server one of its own); without it a new temporary directory is made.

``USERPKG_UI_SLOW_INDEX=1`` starts the second server of the run (port 8889):
it also serves a local index (``slow_index.py``) whose package
``userpkg-slow-demo`` downloads slowly, so that a test can cancel an install
while it runs.

``USERPKG_UI_POLICY_INDEX=1`` starts the third server (port 8890): its PyPI
index is a local one (``policy_index.py``) whose packages the administrator's
policy of ``policy.json`` judges; ``with_admin_policy.py`` runs that server with
the policy in the administrator's ``/etc/jupyter`` of a private mount
namespace, and the other servers have none.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import jupyterlab.galata
from jupyterlab.galata import configure_jupyter_server

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the project's tests/ package
sys.path.insert(0, str(HERE))

from tests.conda_channel import build_test_channel, index_channel, python_shim  # noqa: E402
from tests.echokernel import build_echo_kernel  # noqa: E402

EXCLUDE_NEWER = "2026-10-01T00:00:00Z"
"""PyPI as it was then: uv ignores newer uploads (see uv.toml below)."""

SLOW = os.environ.get("USERPKG_UI_SLOW_INDEX") == "1"
POLICY = os.environ.get("USERPKG_UI_POLICY_INDEX") == "1"

c = get_config()  # type: ignore[name-defined]  # noqa: F821
configure_jupyter_server(c)
c.ServerApp.allow_root = True
c.ServerApp.port = 8889 if SLOW else 8890 if POLICY else 8888
c.ServerApp.log_level = "WARN"  # the test report shows the servers' warnings and errors

run_dir = os.environ.get("USERPKG_UI_RUN_DIR")
if run_dir:
    root = Path(run_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
else:
    root = Path(tempfile.mkdtemp(prefix="userpkg-ui-tests-"))

channel = build_test_channel(root)

# A channel whose echo-kernel ships a kernelspec (kernels.spec.ts): a kernel of its
# own language beside the env's Python one.
echo_channel = root / "echo-channel"
if not (echo_channel / "noarch" / "repodata.json").exists():
    python_shim(echo_channel)
    build_echo_kernel(echo_channel)
    index_channel(echo_channel)

# The lab extension as `jlpm build` last built it in this checkout (as
# `jupyter labextension develop` links it), before any installed copy.
built = HERE.parent / "jupyter_userpkg" / "labextension"
linked = root / "labextensions"
linked.mkdir(exist_ok=True)
if not (linked / "jupyter-userpkg").is_symlink():
    (linked / "jupyter-userpkg").symlink_to(built, target_is_directory=True)
c.LabServerApp.extra_labextensions_path = [
    str(Path(jupyterlab.galata.__file__).parent),  # galata's helpers in the page
    str(linked),
]

settings: dict[str, object] = {
    "envs_dir": str(root / "envs"),
    "kernels_dir": str(root / "data" / "kernels"),
    "uv_cache_dir": str(root / "uv-cache"),
    "conda_pkgs_dir": str(root / "conda-pkgs"),
    "repodata_cache_dir": str(root / "conda-repodata"),
    "search_cache_dir": str(root / "search-cache"),
    "default_channels": [channel.url],
    "watch_interval": 0.5,
}

if SLOW:
    from slow_index import SlowIndex

    index = SlowIndex(root / "wheels")
    index.start()
    settings["extra_index_urls"] = [index.url]

if POLICY:
    from policy_index import PolicyIndex

    policy_index = PolicyIndex(root / "policy-wheels")
    policy_index.start()
    settings["default_index"] = policy_index.url

for key, value in settings.items():
    setattr(c.UserPkg, key, value)

# The CLI (a terminal's, or `!jupyter userpkg ...` in a notebook cell) reads the same
# settings from jupyter_userpkg_config.json in the Jupyter config path, and
# kernels inherit this process's environment.
config_dir = root / "config"
config_dir.mkdir(exist_ok=True)
(config_dir / "jupyter_userpkg_config.json").write_text(
    json.dumps({"UserPkg": settings}, indent=2), encoding="utf-8"
)
os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
    filter(None, [str(config_dir), os.environ.get("JUPYTER_CONFIG_PATH")])
)
# The user's Jupyter data of this run: the environments' kernelspecs go there
# and nothing of the machine's user (such as kernelspecs) comes in.
os.environ["JUPYTER_DATA_DIR"] = str(root / "data")
os.environ["JUPYTER_USERPKG_ENVS_DIR"] = str(root / "envs")
# `jupyter userpkg` in a notebook cell is this interpreter's CLI.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])

if not SLOW:
    # uv's user configuration: its resolutions see PyPI as of EXCLUDE_NEWER.
    uv_config = root / "xdg-config" / "uv"
    uv_config.mkdir(parents=True, exist_ok=True)
    (uv_config / "uv.toml").write_text(f'exclude-newer = "{EXCLUDE_NEWER}"\n', encoding="utf-8")
    os.environ["XDG_CONFIG_HOME"] = str(root / "xdg-config")

print(f"jupyter-userpkg ui-tests: run directory {root}, channel {channel.url}", flush=True)
