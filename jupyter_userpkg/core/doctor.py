"""``doctor``: recover, then check each env's files, its packages and who can reach it.

The checks read; the only writes are the pipeline's own repairs (finishing or
undoing an interrupted change, clearing what a killed create or delete left,
restoring a kernelspec).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import kernelindex, kernels, kinds
from .errors import EnvDamaged, UserPkgError
from .pipeline import Pipeline


def check(
    pipeline: Pipeline,
    names: Sequence[str],
    kernels_dir: Path,
    *,
    deep: bool = False,
    also: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One report per env: what was recovered, and the problems found (none: ok).

    ``also`` are problems of the user's, not of one env (an audit log that refuses
    records): like an exposed envs dir, every env's report says them.
    """
    store, ctx = pipeline.ctx.store, pipeline.ctx
    pipeline.sweep()
    for env in kernels.ours(kernels_dir, store.envs_dir).values():
        with pipeline.lock(env):
            if not store.exists(env):  # the env went without its kernelspec
                kernels.remove(kernels_dir, env, store.envs_dir)
    kernelindex.rebuild(kernels_dir)  # a kernelspec changed by hand is listed as it is now
    exposed = [*exposed_dirs(pipeline), *also]
    reports = []
    for env in names:
        with pipeline.lock(env):
            recovered = None
            try:
                recovered = pipeline.recover(env)
                # Every revision's files first: a damaged one is reported, not tripped over.
                problems = store.damage(env)
                if not problems:
                    state = pipeline.state(env)
                    problems = kinds.of(state.manifest).verify(ctx, state, deep)
                    if pipeline.sync_kernel(env):
                        recovered = ((recovered or "") + "; repaired its kernelspec").lstrip("; ")
            except EnvDamaged as exc:  # said to doctor: its hint is doctor itself
                problems = [exc.message.split("; see `jupyter userpkg doctor", 1)[0]]
            except (UserPkgError, OSError, ValueError) as exc:
                problems = [f"cannot be checked: {exc}"]
        problems = [*problems, *exposed]
        reports.append(
            {"env": env, "recovered": recovered, "problems": problems, "ok": not problems}
        )
    return reports


def exposed_dirs(pipeline: Pipeline) -> list[str]:
    """This user's envs dir and caches that other users can reach, with the fix."""
    if os.name == "nt":  # modes do not say who may read there
        return []
    ctx = pipeline.ctx
    dirs = [ctx.store.envs_dir, ctx.conda.pkgs(), ctx.conda.repodata()]
    if ctx.uv.cache_dir:
        dirs.append(Path(ctx.uv.cache_dir))
    out = []
    for path in dirs:
        try:
            mode = os.stat(path).st_mode & 0o777
        except OSError:
            continue
        if mode & 0o077:
            out.append(
                f"{path} can be reached by other users (mode {mode:04o}): run `chmod 700 {path}`"
            )
    return out
