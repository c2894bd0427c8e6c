"""Wiring the extension into a Jupyter server: config, service, jobs, events, routes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from jupyter_server.utils import url_path_join

from ..commands.config import UserPkg, load_config_files
from ..core.policy.sources import Loaded, load
from ..core.service import UserPkgService
from .handlers import ROUTES
from .jobs import JobManager
from .watch import EnvWatcher, PolicyWatcher

SCHEMAS = Path(__file__).parent / "schemas"
JOB_EVENT = "https://events.jupyter.org/jupyter_userpkg/job/v1"
ENV_EVENT = "https://events.jupyter.org/jupyter_userpkg/env/v1"


def setup_handlers(server_app: Any) -> None:
    """Register the event schemas and the handlers; the service is built from config."""
    web_app = server_app.web_app
    # The core's warnings (an audit record that could not be written) go to the server's
    # log, as jupyter_server does with tornado's loggers.
    core_log = logging.getLogger("jupyter_userpkg")
    core_log.parent, core_log.propagate = server_app.log, True
    # The CLI's config files apply to the server too; the server's own config wins.
    merged = load_config_files()
    merged.merge(server_app.config)
    config = UserPkg(config=merged)
    loaded = load()
    service = UserPkgService.from_config(config, loaded)

    logger = server_app.event_logger
    for schema in ("job.yaml", "env.yaml"):
        logger.register_event_schema(SCHEMAS / schema)

    def emit_env(data: dict[str, Any]) -> None:
        logger.emit(schema_id=ENV_EVENT, data=data)

    watcher = EnvWatcher(service, emit_env, config.watch_interval)

    def emit_job(data: dict[str, Any]) -> None:
        logger.emit(schema_id=JOB_EVENT, data=data)

    jobs = JobManager(emit_job, on_finished=lambda job: watcher.poke(), log=server_app.log)

    def rebuild(loaded: Loaded) -> None:
        new = UserPkgService.from_config(config, loaded)
        web_app.settings["userpkg_service"] = watcher.service = new
        server_app.log.info("jupyter-userpkg: the administrator's policy changed; applied")
        watcher.poke()

    policy = PolicyWatcher(rebuild, loaded, config.policy_interval)
    web_app.settings.update(
        userpkg_service=service,
        userpkg_jobs=jobs,
        userpkg_watcher=watcher,
        userpkg_policy_watcher=policy,
    )
    # The loop may not run yet: the watcher starts on it, before any request (a request
    # starting it again changes nothing), and reads the policy one interval later.
    server_app.io_loop.add_callback(policy.start)
    base = url_path_join(web_app.settings["base_url"], "userpkg", "api")
    web_app.add_handlers(".*$", [(url_path_join(base, path), cls) for path, cls in ROUTES])
