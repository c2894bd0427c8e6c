"""REST handlers under ``<base_url>/userpkg/api/``.

Handlers parse the request, call the core facade off the event loop and
render JSON; the route table is at the bottom.  Errors take the command
layer's one mapping (:func:`~jupyter_userpkg.commands.dispatch.error_body`)
with the error's own HTTP status, as ``--json`` and the cell show them.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..commands.dispatch import error_body
from ..core.config import UserPkg, load_config_files
from ..core.errors import UserPkgError
from ..core.service import UserPkgService
from ..version import __version__

AUTH_RESOURCE = "userpkg"


class UserPkgHandler(APIHandler):
    """Base: the service, and core errors as HTTP (status and the shared error body)."""

    auth_resource = AUTH_RESOURCE

    @property
    def service(self) -> UserPkgService:
        svc: UserPkgService = self.settings["userpkg_service"]
        return svc

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run blocking core work in a thread so the event loop stays free."""
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except UserPkgError as exc:
            # Anything else is the server's own 500 (logged, no traceback in the body).
            self.set_status(exc.http_status)
            self.finish(json.dumps({"reason": exc.code, **error_body(exc)}))
            raise web.Finish() from None


class HealthHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        envs = await self.call(self.service.list_envs)
        self.finish(json.dumps({"status": "ok", "version": __version__, "envs": len(envs)}))


class EnvsHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        envs = await self.call(self.service.list_envs)
        self.finish(json.dumps([e.to_dict() for e in envs]))


def setup_handlers(server_app: Any) -> None:
    web_app = server_app.web_app
    # The CLI's config files apply to the server too; the server's own config wins.
    merged = load_config_files()
    merged.merge(server_app.config)
    config = UserPkg(config=merged)
    web_app.settings["userpkg_service"] = UserPkgService.from_config(config)
    base = url_path_join(web_app.settings["base_url"], "userpkg", "api")
    routes = [
        (url_path_join(base, "health"), HealthHandler),
        (url_path_join(base, "envs"), EnvsHandler),
    ]
    web_app.add_handlers(".*$", routes)
