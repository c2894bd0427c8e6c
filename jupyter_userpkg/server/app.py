"""The server extension as a jupyter_server ``ExtensionApp``: config, service, jobs, events, routes.

:class:`UserPkgApp` builds the service from the ``UserPkg`` settings every front
end reads (:mod:`..commands.config`; the server's own config wins), registers the
event schemas and the REST handlers, and starts the watchers once the loop runs.
Its ``stop_extension`` is the server's shutdown: running jobs are cancelled at
their next safe point (their envs stay at their old revision) and waited for, and
the watchers stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join

from ..commands.config import UserPkg, load_config_files
from ..core import kernelindex
from ..core.kernels import kernel_name
from ..core.policy.sources import Loaded, load
from ..core.service import UserPkgService
from ..version import __version__
from .handlers import ROUTES
from .jobs import JobManager
from .kernelspecs import KernelSpecsHandler, UserPkgKernelSpecManager
from .launcher import ROUTE as LAUNCHER_ROUTE
from .watch import EnvWatcher, PolicyWatcher

SCHEMAS = Path(__file__).parent / "schemas"
JOB_EVENT = "https://events.jupyter.org/jupyter_userpkg/job/v1"
ENV_EVENT = "https://events.jupyter.org/jupyter_userpkg/env/v1"
KERNEL_ACTIONS = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
#: Seconds the shutdown waits for cancelled jobs to reach their safe point.
STOP_TIMEOUT = 60.0


class UserPkgApp(ExtensionApp):
    """The ``jupyter_userpkg`` server extension."""

    name = "jupyter_userpkg"
    load_other_extensions = True

    jobs: JobManager
    watcher: EnvWatcher
    policy_watcher: PolicyWatcher

    def _link_jupyter_server_extension(self, serverapp: Any) -> None:
        """Linked before the server makes its kernel spec manager: ours takes the default's
        place (``UserPkg.kernel_spec_manager``), never a manager the server was given."""
        super()._link_jupyter_server_extension(serverapp)
        from jupyter_client.kernelspec import KernelSpecManager

        merged = load_config_files()
        merged.merge(serverapp.config)
        wanted = UserPkg(config=merged).kernel_spec_manager
        # Read from the config: the trait's default needs what the server has not made yet.
        given = serverapp.config.get("ServerApp", {}).get("kernel_spec_manager_class")
        gateway = serverapp.config.get("GatewayClient", {}).get("url") or os.environ.get(
            "JUPYTER_GATEWAY_URL"
        )
        if wanted and given in (None, KernelSpecManager) and not gateway:
            serverapp.kernel_spec_manager_class = UserPkgKernelSpecManager

    def load_config_file(self, *args: Any, **kwargs: Any) -> None:
        """Nothing: the settings are read as every front end reads them
        (:func:`load_config_files`, in :meth:`initialize_settings`), and never pushed
        into the server's own config."""

    def initialize_settings(self) -> None:
        """The service, its jobs and watchers, in the web app's settings."""
        server_app = self.serverapp
        assert server_app is not None
        # The core's warnings (an audit record that could not be written) go to the
        # server's log, as jupyter_server does with tornado's loggers.
        core_log = logging.getLogger("jupyter_userpkg")
        core_log.parent, core_log.propagate = server_app.log, True
        # The CLI's config files apply to the server too; the server's own config wins.
        merged = load_config_files()
        merged.merge(server_app.config)
        config = UserPkg(config=merged)
        loaded = load()
        service = UserPkgService.from_config(config, loaded)
        # Every env read once now, before the server listens (tens of milliseconds at
        # 300 envs): its first GET envs then checks them as any later one does.  The
        # listing is what later requests and the watcher keep; one that fails here
        # says so on the first request that needs it.
        with contextlib.suppress(Exception):
            service.list_envs()

        logger = server_app.event_logger
        assert logger is not None
        for schema in ("job.yaml", "env.yaml"):
            logger.register_event_schema(SCHEMAS / schema)

        def emit_env(data: dict[str, Any]) -> None:
            logger.emit(schema_id=ENV_EVENT, data=data)

        def emit_job(data: dict[str, Any]) -> None:
            logger.emit(schema_id=JOB_EVENT, data=data)

        self.watcher = EnvWatcher(service, emit_env, config.watch_interval)
        self.jobs = JobManager(
            emit_job, on_finished=lambda job: self.watcher.poke(), log=server_app.log
        )
        self.policy_watcher = PolicyWatcher(self._rebuild(config), loaded, config.policy_interval)
        self._serve_kernelspecs(service.kernels_dir)
        self.settings.update(
            userpkg_service=service,
            userpkg_jobs=self.jobs,
            userpkg_watcher=self.watcher,
            userpkg_policy_watcher=self.policy_watcher,
        )
        # The loop may not run yet: the policy watcher starts on it, before any request
        # (a request starting it again changes nothing), and reads one interval later.
        server_app.io_loop.add_callback(self.policy_watcher.start)

    def _serve_kernelspecs(self, kernels_dir: Path) -> None:
        """Point our kernel spec manager at the envs' kernels dir, and note each start of an
        env's kernel for the launcher's recent envs."""
        server_app = self.serverapp
        assert server_app is not None
        ksm = server_app.kernel_spec_manager
        if not isinstance(ksm, UserPkgKernelSpecManager):
            return
        ksm.userpkg_kernels_dir = str(kernels_dir)
        ksm.base_url = server_app.base_url

        def note(name: str) -> None:
            item = kernelindex.read(kernels_dir).get(name)
            if item is not None:
                kernelindex.mark_used(kernels_dir, kernel_name(str(item["env"])))

        async def started(logger: Any, schema_id: str, data: dict[str, Any]) -> None:
            if data.get("action") == "start" and data.get("status") == "success":
                try:
                    await asyncio.to_thread(note, str(data.get("kernel_name", "")).lower())
                except Exception:  # a launcher's note is never worth a failed start
                    self.log.warning("jupyter-userpkg: could not note a kernel's start")

        assert server_app.event_logger is not None
        server_app.event_logger.add_listener(schema_id=KERNEL_ACTIONS, listener=started)

    def _rebuild(self, config: UserPkg) -> Any:
        """What the policy watcher calls with a changed policy: a new service in place."""

        def rebuild(loaded: Loaded) -> None:
            assert self.serverapp is not None
            new = UserPkgService.from_config(config, loaded)
            self.serverapp.web_app.settings["userpkg_service"] = self.watcher.service = new
            self.log.info("jupyter-userpkg: the administrator's policy changed; applied")
            self.watcher.poke()

        return rebuild

    def initialize_handlers(self) -> None:
        """The REST API under ``<base_url>/userpkg/api/``, and Jupyter's own
        ``api/kernelspecs`` served from our manager's kept listing (the same JSON)."""
        routes = [*ROUTES, LAUNCHER_ROUTE]
        self.handlers.extend((url_path_join("userpkg", "api", path), cls) for path, cls in routes)
        self.handlers.append((r"/api/kernelspecs", KernelSpecsHandler))
        self.log.info("jupyter_userpkg %s: server extension loaded", __version__)

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """The loop runs: watch for envs changed outside the server."""
        self.watcher.start()

    async def stop_extension(self) -> None:
        """The server stops: cancel running jobs at their next safe point, wait for them,
        and stop the watchers."""
        self.watcher.stop()
        self.policy_watcher.stop()
        jobs = self.jobs.cancel_all()
        try:
            await asyncio.wait_for(self.jobs.wait_all(), STOP_TIMEOUT)
        except TimeoutError:
            self.log.warning("jupyter-userpkg: jobs still running at shutdown")
        for job in jobs:
            self.log.info(
                "jupyter-userpkg: job %s (%s) %s at shutdown", job.id, job.command, job.state
            )
