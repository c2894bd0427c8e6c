"""``PUT userpkg/api/envs/{env}/launcher``: pin an env to JupyterLab's launcher, or unpin it.

JupyterLab's launcher shows the kernels of the envs used or made lately and of the
pinned ones (``server/kernelspecs.py``); the panel pins and unpins an env here. The
pin is kept in the kernels dir's ``.userpkg-launcher.json`` (:mod:`..core.kernelindex`),
so the next ``GET api/kernelspecs`` says it (``metadata.userpkg.pinned``).
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..core import kernelindex
from ..core.errors import InvalidRequest
from ..core.kernels import kernel_name
from ..core.names import validate_env_name
from .handlers import ENV, UserPkgHandler, mapped


class LauncherHandler(UserPkgHandler):
    """An env's place in JupyterLab's launcher."""

    @web.authenticated
    @authorized
    @mapped
    async def put(self, env: str) -> None:
        validate_env_name(env)
        body = self.body()
        pinned = body.get("pinned") if isinstance(body, dict) else None
        if not isinstance(pinned, bool) or set(body) != {"pinned"}:
            raise InvalidRequest('the body must be {"pinned": true} or {"pinned": false}')
        await self.call(self.service.require, env)
        await self.call(kernelindex.pin, self.service.kernels_dir, kernel_name(env), pinned)
        self.send({"env": env, "pinned": pinned})


ROUTE = (f"envs/{ENV}/launcher", LauncherHandler)
