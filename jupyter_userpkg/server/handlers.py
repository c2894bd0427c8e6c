"""REST handlers under ``<base_url>/userpkg/api/`` (see ``openapi.yaml``).

Handlers parse the request into the command the CLI would run
(:mod:`~jupyter_userpkg.commands.bodies` builds the dataclasses of
:mod:`~jupyter_userpkg.commands.verbs`), run it through the command layer
off the event loop, and render the outcome as JSON; long work becomes a job
(:mod:`.jobs`) and answers 202.  Errors take the command layer's one mapping
(:func:`~jupyter_userpkg.commands.dispatch.error_body`) with the error's own
HTTP status.  The route table is at the bottom.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..commands import bodies
from ..commands.dispatch import Outcome, dispatch, error_body
from ..commands.verbs import Command, Create, Kinds, Policy
from ..core.errors import EnvExists, UserPkgError
from ..core.importnames import plan_modules, required_by
from ..core.names import DEFAULT_ENV, validate_env_name
from ..core.service import UserPkgService
from ..version import __version__
from .jobs import FINISHED, INTERNAL, JobManager

AUTH_RESOURCE = "userpkg"
T = TypeVar("T")


def mapped(
    method: Callable[..., Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    """Answer a core error with its status and the shared error body, never a traceback."""

    @functools.wraps(method)
    async def wrapper(self: UserPkgHandler, *args: Any, **kwargs: Any) -> None:
        try:
            await method(self, *args, **kwargs)
        except UserPkgError as exc:
            self.set_status(exc.http_status)
            self.finish(json.dumps({"reason": exc.code, **error_body(exc)}))
        except Exception as exc:  # a bug: in the log, and in words for the client
            self.log.error(
                "userpkg: %s %s failed", self.request.method, self.request.path, exc_info=exc
            )
            if not self._finished:
                self.set_status(500)
                self.finish(json.dumps({"reason": INTERNAL.code, **error_body(INTERNAL)}))

    return wrapper


class UserPkgHandler(APIHandler):
    """Base: the service, the jobs, and running commands off the event loop."""

    auth_resource = AUTH_RESOURCE

    async def prepare(self, **kwargs: Any) -> None:
        await super().prepare(**kwargs)
        self.settings["userpkg_watcher"].start()
        self.settings["userpkg_policy_watcher"].start()

    @property
    def service(self) -> UserPkgService:
        svc: UserPkgService = self.settings["userpkg_service"]
        return svc

    @property
    def jobs(self) -> JobManager:
        manager: JobManager = self.settings["userpkg_jobs"]
        return manager

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking core work in a thread so the event loop stays free."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def command(self, command: Command) -> Outcome:
        """Run a (reading or dry-run) command through the command layer, in a thread."""
        return await self.call(dispatch, self.service, command)

    def body(self) -> Any:
        return bodies.parse_json(self.request.body)

    def send(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data))

    def submit(self, env: str, verb: str, command: Command, text: str) -> None:
        """Start a job running ``command``; answer 202 with the job and its ``Location``.

        The job runs with the service current when it starts, not when it was queued: a
        policy read again in between applies to it."""
        settings = self.settings

        def work(progress: Any, confirm: Any) -> Outcome:
            svc: UserPkgService = settings["userpkg_service"]
            try:
                return dispatch(svc, command, progress=progress, confirm=confirm)
            except UserPkgError as exc:
                raise bodies.scrub_upload(command, exc) from None
            finally:
                bodies.discard_upload(command)

        job = self.jobs.submit(env, verb, text, work)
        self.set_header("Location", job_url(self.base_url, job.id))
        self.send(job.to_dict(), 202)

    async def with_modules(self, env: str, plan: dict[str, Any]) -> dict[str, Any]:
        """``plan`` with ``modules``: the import names of each distribution it replaces or
        removes, read from the env's files now, before the change (the panel names the
        modules a kernel imported that the change makes stale)."""
        prefix = self.service.store.prefix(env)
        return {**plan, "modules": await self.call(plan_modules, prefix, plan)}

    async def existing(self, env: str) -> str:
        """``env`` if it exists (``default`` may be made by its first change)."""
        validate_env_name(env)
        if env != DEFAULT_ENV:
            await self.call(self.service.require, env)
        return env


def job_url(base_url: str, job_id: str) -> str:
    return url_path_join(base_url, "userpkg", "api", "jobs", job_id)


class HealthHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    @mapped
    async def get(self) -> None:
        envs = await self.call(self.service.list_envs)
        self.send({"status": "ok", "version": __version__, "envs": len(envs)})


class EnvsHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    @mapped
    async def get(self) -> None:
        # The listing returns the same list while no env changed: its JSON is kept
        # (encoding 300 envs on the event loop costs more than checking them).
        # Tornado adds an ETag of the body and answers If-None-Match with 304.
        outcome = await self.command(bodies.envs_command())
        kept = self.settings.get("userpkg_envs_json")
        if kept is None or kept[0] is not outcome.value:
            kept = (outcome.value, json.dumps(outcome.data))
            self.settings["userpkg_envs_json"] = kept
        self.finish(kept[1])

    @web.authenticated
    @authorized
    @mapped
    async def post(self) -> None:
        # An uploaded file is written to disk: off the event loop, as all file work.
        create = await self.call(bodies.create_command, self.body())
        try:
            validate_env_name(create.name)
            if await self.call(self.service.store.exists, create.name):
                raise EnvExists(f"environment {create.name!r} already exists")
            if create.dry_run:
                await self.plan_create(create)
                return
            text = " ".join(["create", create.name, *create.specs])
            self.submit(create.name, "create", create, text)
        except BaseException:
            bodies.discard_upload(create)
            raise

    async def plan_create(self, create: Create) -> None:
        """Answer the plan of ``create`` (a dry run, as ``POST envs/{env}/plan`` answers a
        change's), nothing made; the uploaded file is discarded after."""
        try:
            outcome = await self.command(create)
        except UserPkgError as exc:
            raise bodies.scrub_upload(create, exc) from None
        finally:
            bodies.discard_upload(create)
        self.send({**outcome.data["plan"], "modules": {}})


class EnvHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    @mapped
    async def get(self, env: str) -> None:
        self.send((await self.command(bodies.env_command(env))).data)

    @web.authenticated
    @authorized
    @mapped
    async def delete(self, env: str) -> None:
        validate_env_name(env)
        await self.call(self.service.require, env)
        self.submit(env, "delete", bodies.delete_command(env), f"delete {env}")


class PackagesHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    @mapped
    async def get(self, env: str) -> None:
        outcome = await self.command(bodies.list_command(env))
        self.send(outcome.data)


class DependentsHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    @mapped
    async def get(self, env: str, name: str) -> None:
        await self.existing(env)
        prefix = self.service.store.prefix(env)
        self.send({"name": name, "required_by": await self.call(required_by, prefix, name)})


class HistoryHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    @mapped
    async def get(self, env: str) -> None:
        self.send((await self.command(bodies.history_command(env))).data)


class ExportHandler(UserPkgHandler):
    SUFFIX = {
        "requirements": "requirements.txt",
        "environment": "environment.yml",
        "lock": "lock.toml",
        "notebook": "userpkg.json",
        "pep723": "script.toml",
    }
    TYPES = {
        "requirements": "text/plain",
        "environment": "application/yaml",
        "lock": "application/toml",
        "notebook": "application/json",
        "pep723": "text/plain",
    }

    @web.authenticated
    @authorized
    @mapped
    async def get(self, env: str) -> None:
        fmt = self.get_argument("format", "requirements")
        outcome = await self.command(bodies.export_command(env, fmt))
        filename = f"{env}-{self.SUFFIX[fmt]}"
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.finish(outcome.data["text"], set_content_type=f"{self.TYPES[fmt]}; charset=UTF-8")


class PlanHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    @mapped
    async def post(self, env: str) -> None:
        change = bodies.change_command(env, self.body(), dry_run=True)
        await self.existing(env)
        outcome = await self.command(change)
        self.send(await self.with_modules(env, outcome.data["plan"]))


class TransactionsHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    @mapped
    async def post(self, env: str) -> None:
        change = bodies.change_command(env, self.body(), dry_run=False)
        await self.existing(env)
        install, remove, update, _ = change.parts()
        parts = [*install, *(f"-{n}" for n in remove), *(f"^{n}" for n in update)]
        self.submit(env, "change", change, " ".join(["change", *parts]))


class RollbackHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    @mapped
    async def post(self, env: str) -> None:
        rollback = bodies.rollback_command(env, self.body())
        await self.existing(env)
        if rollback.dry_run:
            plan = (await self.command(rollback)).data["plan"]
            self.send(await self.with_modules(env, plan))
            return
        self.submit(env, "rollback", rollback, f"rollback {rollback.revision}")


class SearchHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    @mapped
    async def get(self) -> None:
        search = bodies.search_command(
            self.get_argument("q", None),
            self.get_argument("source", None),
            self.get_argument("limit", None),
        )
        self.send((await self.command(search)).data)


class PackageInfoHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    @mapped
    async def get(self, name: str) -> None:
        info = bodies.info_command(name, self.get_argument("source", None))
        self.send((await self.command(info)).data)


class ProvidesHandler(UserPkgHandler):
    """``GET provides?name=X&env=ENV``: which package provides the import name ``X``."""

    @web.authenticated
    @authorized
    @mapped
    async def get(self) -> None:
        provides = bodies.provides_command(
            self.get_argument("name", None), self.get_argument("env", None)
        )
        self.send((await self.command(provides)).data)


class PolicyHandler(UserPkgHandler):
    """``GET policy``: the effective policy, each part's origin; ``?check=1`` adds which
    of the user's envs violate it."""

    @web.authenticated
    @authorized
    @mapped
    async def get(self) -> None:
        check = self.get_argument("check", "")
        policy = bodies.policy_command(check)
        described = (await self.command(Policy())).data
        if policy.check:
            described = {**described, "violations": (await self.command(policy)).data["violations"]}
        self.send(described)


class KindsHandler(UserPkgHandler):
    """``GET kinds``: each kind of env and what it can do."""

    @web.authenticated
    @authorized
    @mapped
    async def get(self) -> None:
        self.send((await self.command(Kinds())).data)


class JobsHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    @mapped
    async def get(self) -> None:
        env = self.get_argument("env", None)
        # The list carries each job's latest event; GET jobs/{id} has them all.
        self.send([job.to_dict(events=False) for job in self.jobs.list(env)])


class JobHandler(UserPkgHandler):
    @web.authenticated
    @authorized
    @mapped
    async def get(self, job_id: str) -> None:
        self.send(self.jobs.get(job_id).to_dict())

    @web.authenticated
    @authorized
    @mapped
    async def delete(self, job_id: str) -> None:
        job = self.jobs.cancel(job_id)
        self.send(job.to_dict(), 200 if job.state in FINISHED else 202)


class JobEventsHandler(UserPkgHandler):
    """A job's progress as a stream of server-sent events, until the job ends.

    Each progress event is ``event: progress`` with the event as JSON (its
    ``id`` is its number, so a client that reconnects with ``Last-Event-ID``
    or ``?after=N`` misses nothing still kept); the stream ends with
    ``event: end`` and the finished job.
    """

    @web.authenticated
    @authorized
    @mapped
    async def get(self, job_id: str) -> None:
        job = self.jobs.get(job_id)
        last = self.request.headers.get("Last-Event-ID")  # the last one the client has
        if last is not None and last.strip().isdigit():
            seen = int(last) + 1
        else:
            seen = _int(self.get_argument("after", None))
        self.set_header("Content-Type", STREAM)
        self.set_header("Cache-Control", "no-cache")
        while True:
            finished = job.state in FINISHED  # before reading: no event comes after the end
            first, events = job.events_after(seen)
            for number, event in enumerate(events, first):
                self.write(f"id: {number}\nevent: progress\ndata: {json.dumps(event)}\n\n")
            seen = first + len(events)
            if finished:
                self.write(f"event: end\ndata: {json.dumps(job.to_dict())}\n\n")
                break
            try:
                await self.flush()
            except Exception:  # the client went away
                return
            async with job.changed:
                try:
                    await asyncio.wait_for(job.changed.wait(), 1.0)
                except TimeoutError:
                    self.write(": waiting\n\n")
        self.finish(set_content_type=STREAM)


STREAM = "text/event-stream; charset=UTF-8"


def _int(text: str | None) -> int:
    try:
        return max(int(text or 0), 0)
    except ValueError:
        return 0


ENV = r"(?P<env>[^/]+)"
JOB = r"(?P<job_id>[^/]+)"

#: The routes, relative to ``<base_url>/userpkg/api/``.
ROUTES: list[tuple[str, type[UserPkgHandler]]] = [
    ("health", HealthHandler),
    ("envs", EnvsHandler),
    (f"envs/{ENV}", EnvHandler),
    (f"envs/{ENV}/packages", PackagesHandler),
    (rf"envs/{ENV}/packages/(?P<name>[^/]+)/dependents", DependentsHandler),
    (f"envs/{ENV}/history", HistoryHandler),
    (f"envs/{ENV}/export", ExportHandler),
    (f"envs/{ENV}/plan", PlanHandler),
    (f"envs/{ENV}/transactions", TransactionsHandler),
    (f"envs/{ENV}/rollback", RollbackHandler),
    ("search", SearchHandler),
    (r"packages/(?P<name>[^/]+)", PackageInfoHandler),
    ("provides", ProvidesHandler),
    ("policy", PolicyHandler),
    ("kinds", KindsHandler),
    ("jobs", JobsHandler),
    (f"jobs/{JOB}", JobHandler),
    (f"jobs/{JOB}/events", JobEventsHandler),
]
