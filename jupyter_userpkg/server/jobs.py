"""Jobs: long work (create, change, rollback, delete) run off the event loop.

A request that changes an env answers at once with a job; the work runs in a
worker thread through the command layer, as the CLI's would.  Jobs of one env
run one after the other in the order they came (the pipeline's env lock would
serialise them anyway; queueing here keeps the order and frees the threads);
jobs of different envs run side by side.

A job keeps its plan (from the pipeline's confirm step, before anything is
touched), its progress events, and its result or error.  Every state change
and progress event is also handed to ``emit`` (the server sends it on
Jupyter's event bus).  Cancelling sets the job's cancel request, which the
pipeline honours at its next safe point (:mod:`jupyter_userpkg.core.cancel`),
leaving the env at its old revision; a queued job is simply never run.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..commands.dispatch import Outcome, error_body
from ..core import cancel
from ..core.errors import Cancelled, JobNotFound, TransactionFailed, UserPkgError
from ..core.events import WAITING, ProgressEvent

#: Progress events a job keeps (a long download reports often; the newest are kept).
MAX_EVENTS = 500
#: Finished jobs remembered for ``GET jobs/{id}``.
KEEP_FINISHED = 200
#: Jobs that run at once (of different envs).  Jobs have threads of their own, so that
#: however many run, reads (which use the loop's default executor) never wait for them.
#: The threads stay for the server's life: a child's death signal follows its thread.
MAX_RUNNING = 4

FINISHED = frozenset({"succeeded", "failed", "cancelled"})

#: What a client is told of a bug (the server's log has the traceback).
INTERNAL = TransactionFailed(
    "internal error: the change could not be completed; the server's log has the details"
)

#: The work of a job: given a progress callback and a confirm callback, run one command.
Work = Callable[[Callable[[ProgressEvent], None], Callable[[Any], bool]], Outcome]
#: Where job events go: (job as an event dict) -> None, called on the event loop.
Emit = Callable[[dict[str, Any]], None]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Job:
    """One job; mutated only by its manager (on the loop) and its worker (its events)."""

    id: str
    env: str
    verb: str
    command: str
    state: str = "queued"
    created: str = field(default_factory=_now)
    started: str | None = None
    finished: str | None = None
    plan: dict[str, Any] | None = None
    result: Any = None
    error: dict[str, Any] | None = None
    events: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=MAX_EVENTS)
    )
    #: Events seen in all (``events`` keeps the newest MAX_EVENTS of them).
    event_count: int = 0
    cancel: threading.Event = field(default_factory=threading.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    #: The worker thread adds events while the loop reads them.
    _events_lock: threading.Lock = field(default_factory=threading.Lock)

    def add_event(self, event: dict[str, Any]) -> None:
        with self._events_lock:
            self.events.append(event)
            self.event_count += 1

    def events_after(self, seen: int) -> tuple[int, list[dict[str, Any]]]:
        """(number of the first event returned, the kept events numbered ``seen`` and later)."""
        with self._events_lock:
            first = self.event_count - len(self.events)
            start = max(seen, first)
            return start, list(self.events)[start - first :]

    def to_dict(self, *, events: bool = True) -> dict[str, Any]:
        with self._events_lock:
            kept = list(self.events) if events else list(self.events)[-1:]
            count = self.event_count
        return {
            "id": self.id,
            "env": self.env,
            "verb": self.verb,
            "command": self.command,
            "state": self.state,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "cancel_requested": self.cancel.is_set(),
            "plan": self.plan,
            "events": kept,
            "event_count": count,
            "result": self.result,
            "error": self.error,
        }


class JobManager:
    """Runs jobs, one queue per env, and remembers them for a while."""

    def __init__(
        self,
        emit: Emit,
        on_finished: Callable[[Job], Any] | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self._emit = emit
        self._log = log or logging.getLogger(__name__)
        self._on_finished = on_finished
        self._jobs: dict[str, Job] = {}
        self._queues: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            MAX_RUNNING, thread_name_prefix="userpkg-job"
        )

    def submit(self, env: str, verb: str, command: str, work: Work) -> Job:
        """Queue ``work`` on ``env``'s queue; the job is returned at once."""
        job = Job(uuid.uuid4().hex, env, verb, command)
        self._jobs[job.id] = job
        self._forget_old()
        task = asyncio.get_running_loop().create_task(self._run(job, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._send(job)
        return job

    def get(self, job_id: str) -> Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise JobNotFound(
                f"no job {job_id!r}: it never existed or finished long ago"
                f" (the server keeps the last {KEEP_FINISHED} finished jobs)"
            ) from None

    def list(self, env: str | None = None) -> list[Job]:
        return [j for j in self._jobs.values() if env is None or j.env == env]

    def cancel(self, job_id: str) -> Job:
        """Ask a job to stop: a queued one ends now, a running one at its next safe point."""
        job = self.get(job_id)
        if job.state not in FINISHED:
            job.cancel.set()
            if job.state == "queued":
                self._finish(job, "cancelled", error=error_body(Cancelled(cancel.MESSAGE)))
            else:
                self._send(job)
        return job

    def cancel_all(self) -> tuple[Job, ...]:
        """Ask every job not finished to stop (the server's shutdown); the jobs asked."""
        asked = tuple(job for job in self._jobs.values() if job.state not in FINISHED)
        for job in asked:
            self.cancel(job.id)
        return asked

    async def wait_all(self) -> None:
        """Wait for every job (the server's shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------ internals

    async def _run(self, job: Job, work: Work) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queues.setdefault(job.env.lower(), asyncio.Lock())
        if queue.locked():  # an earlier job of this env runs: say so, and only then
            waiting = ProgressEvent("wait", WAITING).to_dict()
            waiting["time"] = time.time()
            job.add_event(waiting)
            self._send(job, waiting)
        async with queue:
            if job.state in FINISHED:  # cancelled while it waited
                return

            def progress(event: ProgressEvent) -> None:
                data = event.to_dict()
                data["time"] = time.time()
                job.add_event(data)
                loop.call_soon_threadsafe(self._send, job, data)

            def confirm(plan: Any) -> bool:
                job.plan = plan.to_dict()
                loop.call_soon_threadsafe(self._send, job)
                return True

            def run() -> Outcome:
                # Running from here (it may have waited for a thread of the pool).
                if job.cancel.is_set():
                    raise Cancelled(cancel.MESSAGE)
                loop.call_soon_threadsafe(self._start, job)
                with cancel.scope(job.cancel):
                    return work(progress, confirm)

            try:
                outcome = await loop.run_in_executor(self._pool, run)
            except Cancelled as exc:
                self._finish(job, "cancelled", error=error_body(exc))
            except UserPkgError as exc:
                self._finish(job, "failed", error=error_body(exc))
            except BaseException as exc:  # a bug: in the log, and in words for the client
                self._log.error("job %s (%s) failed", job.id, job.command, exc_info=exc)
                self._finish(job, "failed", error=error_body(INTERNAL))
                if not isinstance(exc, Exception):
                    raise
            else:
                data = outcome.data
                if job.plan is None and isinstance(data, dict) and "plan" in data:
                    job.plan = data["plan"]
                job.result = data
                self._finish(job, "succeeded")

    def _start(self, job: Job) -> None:
        if job.state == "queued":
            job.state, job.started = "running", _now()
            self._send(job)

    def _finish(self, job: Job, state: str, *, error: dict[str, Any] | None = None) -> None:
        if job.state in FINISHED:
            return
        job.state, job.finished, job.error = state, _now(), error
        self._send(job)
        job.done.set()
        if self._on_finished is not None:
            self._on_finished(job)

    def _send(self, job: Job, event: dict[str, Any] | None = None) -> None:
        data: dict[str, Any] = {"id": job.id, "env": job.env, "verb": job.verb, "state": job.state}
        if event is not None:
            data["event"] = {k: v for k, v in event.items() if k != "time"}
        if job.error is not None:
            data["error"] = job.error
        self._emit(data)
        # Wake the job's event streams.
        task = asyncio.get_running_loop().create_task(self._notify(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify(self, job: Job) -> None:
        async with job.changed:
            job.changed.notify_all()

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state in FINISHED]
        for job in finished[: max(len(finished) - KEEP_FINISHED, 0)]:
            del self._jobs[job.id]
