"""Configuration of the core, as traitlets so that Jupyter config files set it.

The same class is read by the server extension (from the server's config) and
by the CLI (from ``jupyter_userpkg_config.{json,py}`` in the Jupyter config
path), so a setting means the same thing in every front end.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_config_path, jupyter_data_dir
from traitlets import Bool, Float, Int, List, Unicode, default
from traitlets.config import Config, Configurable
from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader


class UserPkg(Configurable):
    """Settings of jupyter-userpkg (section ``UserPkg`` of any Jupyter config file)."""

    envs_dir = Unicode(
        help="Directory holding the user's environments (default: <JUPYTER_DATA_DIR>/userpkg/envs)."
    ).tag(config=True)

    base_python = Unicode(
        help="Interpreter that `layer` environments extend (default: the running interpreter)."
    ).tag(config=True)

    watch_interval = Float(
        2.0,
        help="Server: seconds between looks for envs changed outside the server (CLI, "
        "%userpkg in a kernel), which the server then announces as events; 0 turns it off.",
    ).tag(config=True)
    policy_interval = Float(
        60.0,
        help="Server: seconds between reads of the administrator's policy (its files, its URL); "
        "a changed policy applies from then on, without a restart. 0 turns it off.",
    ).tag(config=True)
    lock_timeout = Float(
        300.0,
        help="Seconds a second writer waits for an environment's lock before EnvBusy.",
    ).tag(config=True)

    default_index = Unicode("", help="PyPI index URL (empty: uv's default, PyPI itself).").tag(
        config=True
    )

    extra_index_urls = List(Unicode(), help="Additional PyPI index URLs.").tag(config=True)

    find_links = List(
        Unicode(),
        help="Directories of wheels (or pages listing them) searched besides the index, e.g. "
        "a read-only directory an administrator fills for all users (passed as --find-links).",
    ).tag(config=True)

    uv_cache_dir = Unicode(
        "", help="uv's package cache (empty: uv's default, shared with the user's own uv)."
    ).tag(config=True)

    kernels_dir = Unicode(
        "",
        help="Where env kernelspecs go (empty: <JUPYTER_DATA_DIR>/kernels, found by every server).",
    ).tag(config=True)

    kernel_spec_manager = Bool(
        True,
        help="Serve the envs' kernelspecs through jupyter-userpkg's kernel spec manager (one "
        "cached index instead of every kernelspec read on each request), in place of "
        "Jupyter's default one; a server configured with another kernel spec manager keeps it.",
    ).tag(config=True)

    channel_alias = Unicode(
        "https://conda.anaconda.org/",
        help="Base URL that conda channel names (conda-forge, bioconda) resolve against.",
    ).tag(config=True)

    default_channels = List(
        Unicode(),
        default_value=["conda-forge"],
        help="Channels (names or URLs) of a conda environment created without -c.",
    ).tag(config=True)

    conda_pkgs_dir = Unicode(
        "",
        help="The user's conda package cache (empty: ~/.cache/jupyter-userpkg/conda-pkgs); "
        "envs link from it with hard links, so keep it on the envs' filesystem.",
    ).tag(config=True)

    shared_pkgs_dirs = List(
        Unicode(),
        help="Read-only conda package caches shared between users (searched first).",
    ).tag(config=True)

    repodata_cache_dir = Unicode(
        "", help="Cache of channels' repodata (empty: ~/.cache/jupyter-userpkg/conda-repodata)."
    ).tag(config=True)

    repodata_ttl = Float(
        300.0,
        help="Seconds a server reuses a channel's repodata in memory before checking for news.",
    ).tag(config=True)

    search_cache_dir = Unicode(
        "",
        help="Cache of `search` and `info`: the PyPI project list and package details "
        "(empty: ~/.cache/jupyter-userpkg/search).",
    ).tag(config=True)

    search_ttl = Float(
        86400.0,
        help="Seconds the cached project list of the PyPI index is searched before it is "
        "fetched again.",
    ).tag(config=True)

    package_info_ttl = Float(
        3600.0,
        help="Seconds a package's cached details (versions, summary, licence) are shown before "
        "they are fetched again.",
    ).tag(config=True)

    notebook_lock_max_bytes = Int(
        256 * 1024,
        help="A notebook's metadata.userpkg carries its env's lock text up to this many bytes "
        "(above: only the lock's sha256, and the notebook is restored from its requests).",
    ).tag(config=True)

    audit_log = Unicode(
        "",
        help="Where each applied change is recorded as a JSON line ({user} becomes the name "
        "of the process's real uid; empty: <envs_dir>/.audit.jsonl), or 'syslog' "
        "('syslog:/path/to/socket') to send each record to syslog or journald. A file is "
        "written only when it is the user's own, mode 0600, one link. An administrator's "
        "value is never replaced by a user's.",
    ).tag(config=True)

    shared_envs_dirs = List(
        Unicode(),
        help="Administrator only: dirs of the envs an administrator shares with every user "
        "(`create NAME --shared`; users read them and layer their own envs over them). "
        "Counts only in an administrator's config dir (/etc/jupyter, "
        "/usr/local/etc/jupyter, the server's <prefix>/etc/jupyter) and only for a dir no one "
        "but the administrator can write; a user's value is ignored.",
    ).tag(config=True)

    shared_kernels_dir = Unicode(
        "",
        help="Administrator only: where shared envs' kernelspecs go (empty: "
        "/usr/local/share/jupyter/kernels, which every user's server reads).",
    ).tag(config=True)

    offline = Bool(False, help="Never use the network: solve and install from caches only.").tag(
        config=True
    )

    @default("envs_dir")
    def _default_envs_dir(self) -> str:
        return os.environ.get("JUPYTER_USERPKG_ENVS_DIR") or str(
            Path(jupyter_data_dir()) / "userpkg" / "envs"
        )

    @default("base_python")
    def _default_base_python(self) -> str:
        return os.environ.get("JUPYTER_USERPKG_BASE_PYTHON") or sys.executable


def load_config_files() -> Config:
    """Read ``jupyter_userpkg_config.json`` / ``.py`` from the Jupyter config path.

    Earlier entries of the path (the user's) take precedence over later ones
    (the system's), as everywhere in Jupyter.
    """
    config = Config()
    for directory in reversed(jupyter_config_path()):
        for loader_cls in (JSONFileConfigLoader, PyFileConfigLoader):
            ext = ".json" if loader_cls is JSONFileConfigLoader else ".py"
            name = "jupyter_userpkg_config" + ext
            if not (Path(directory) / name).is_file():
                continue
            loader: Any = loader_cls(name, path=directory)
            config.merge(loader.load_config())
    return config
