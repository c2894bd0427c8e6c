"""The policy's sources written into each env, for the tools users run there.

``%pip install`` in a notebook, ``uv pip install`` in a terminal of that env,
``conda install`` with that env active: none of them is this project, and none
should reach another index or channel than the administrator chose.  Each env
gets the files those tools read from the env itself (``pip.conf`` in a venv,
``.condarc`` in a conda prefix) and ``uv.toml``, which the env's kernels name
in ``UV_CONFIG_FILE``.  This guides tools; it does not confine them: the trust
boundary is the network (see the administrator's guide).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from .files import atomic_write
from .kinds.base import Context

#: The files written into a prefix, and the marker saying they are ours to rewrite.
FILES = ("pip.conf", "uv.toml", ".condarc")
HEADER = "written by jupyter-userpkg from the administrator's policy; do not edit"


def texts(ctx: Context, conda: bool) -> dict[str, str]:
    """Each file's text, for what the policy sets (nothing: no files)."""
    policy, out = ctx.policy, {}
    if policy.indexes or policy.snapshot:
        index, extra = ctx.uv.default_index, ctx.uv.extra_index_urls
        pip = [f"# {HEADER}", "[global]"]
        uv = [f"# {HEADER}"]
        if index:
            pip.append(f"index-url = {index}")
            uv.append(f"index-url = {json.dumps(index)}")
        if extra:
            pip.append("extra-index-url = " + " ".join(extra))
            uv.append(f"extra-index-url = {json.dumps(list(extra))}")
        if policy.snapshot:
            uv.append(f"exclude-newer = {json.dumps(policy.snapshot)}")
        out["pip.conf"] = "\n".join(pip) + "\n"
        out["uv.toml"] = "\n".join(uv) + "\n"
    if conda and (policy.channels or policy.channel_alias):
        rc = [f"# {HEADER}"]
        if policy.channel_alias:
            rc.append(f"channel_alias: {json.dumps(policy.channel_alias)}")
        if policy.channels:
            rc.append("channels:")
            rc += [f"  - {json.dumps(c)}" for c in policy.channels]
            if not policy.user_channels:
                rc.append("allowlist_channels:")
                rc += [f"  - {json.dumps(c)}" for c in policy.channels]
        out[".condarc"] = "\n".join(rc) + "\n"
    return out


def write(ctx: Context, prefix: Path, conda: bool) -> dict[str, str]:
    """Write (or remove, when the policy no longer sets them) the env's files.

    Returns the kernel variables that point tools at them.  A file the user
    wrote themselves (without our header) is left alone.
    """
    if ctx.policy.error:  # the policy cannot be read now: the files stay as they were
        kept = prefix / "uv.toml"
        with contextlib.suppress(OSError):
            if HEADER in kept.read_text(encoding="utf-8").split("\n", 1)[0]:
                return {"UV_CONFIG_FILE": str(kept)}
        return {}
    wanted = texts(ctx, conda)
    for name in FILES:
        path = prefix / name
        ours = True
        with contextlib.suppress(OSError):
            ours = HEADER in path.read_text(encoding="utf-8").split("\n", 1)[0]
        if not ours:
            continue
        if name in wanted:
            if not path.exists() or path.read_text(encoding="utf-8") != wanted[name]:
                atomic_write(path, wanted[name])
        else:
            path.unlink(missing_ok=True)
    return {"UV_CONFIG_FILE": str(prefix / "uv.toml")} if "uv.toml" in wanted else {}
