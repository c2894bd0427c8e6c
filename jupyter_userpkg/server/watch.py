"""Env-changed events, also for changes made outside the server.

The CLI and ``%userpkg`` in a kernel change envs without telling the server.
Every few seconds (and at once after each of the server's own jobs) the
watcher lists the envs (which costs a directory read per env: the service
keeps what it read for as long as an env stays at its revision) and emits
``created`` / ``changed`` / ``deleted`` for what differs from the last look.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from tornado.ioloop import PeriodicCallback

from ..core.policy.sources import Loaded
from ..core.records import EnvInfo
from ..core.service import UserPkgService

#: What a client sees of an env in a listing.
Stamp = tuple[int, str, str | None, int, str, str]


class EnvWatcher:
    """Compares the envs with the last look and emits what changed."""

    def __init__(
        self, service: UserPkgService, emit: Callable[[dict[str, Any]], None], interval: float
    ) -> None:
        self.service = service
        self.emit = emit
        self.interval = interval
        self._seen: dict[str, Stamp] | None = None
        self._timer: PeriodicCallback | None = None
        self._looking: asyncio.Task[None] | None = None
        self._again = False

    def start(self) -> None:
        """Look every ``interval`` seconds from now on (idempotent)."""
        if self._timer is None and self.interval > 0:
            # A timer, not a task that sleeps: nothing is left pending when the loop stops.
            self._timer = PeriodicCallback(self.poke, self.interval * 1000)
            self._timer.start()
            self.poke()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def poke(self) -> None:
        """Look now (on the timer, and after a job of the server finished)."""
        if self._looking is None or self._looking.done():
            self._looking = asyncio.get_running_loop().create_task(self._look_quietly())
        else:  # a look is under way, and may have begun before what the poke is about
            self._again = True

    async def _look_quietly(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            with contextlib.suppress(Exception):  # a look that fails is retried next time
                await self.look()

    async def look(self) -> None:
        envs = await asyncio.to_thread(self.service.list_envs)
        now = {e.name: _stamp(e) for e in envs}
        before, self._seen = self._seen, now
        if before is None:  # the first look is the reference
            return
        for name, stamp in now.items():
            if name not in before:
                self.emit({"env": name, "action": "created", "revision": stamp[0]})
            elif before[name] != stamp:
                self.emit({"env": name, "action": "changed", "revision": stamp[0]})
        for name in before.keys() - now.keys():
            self.emit({"env": name, "action": "deleted", "revision": -1})


def _stamp(info: EnvInfo) -> Stamp:
    advised = json.dumps(info.advisories, sort_keys=True)  # the policy changed what it says
    return (info.revision, info.kind, info.kernel, info.packages, info.python, advised)


class PolicyWatcher:
    """Reads the administrator's policy again every ``interval`` seconds; when it changed,
    the server's service is rebuilt within the new one.

    So a version blocked today (a security advisory) is refused, and flagged in the
    envs the user holds it in, without restarting the user's server.  What is compared
    is all that was read: the rules and their origins, the notes, and the administrator's
    source settings (``find_links`` and ``audit_log`` change no rule but change the
    service).  Jobs under way finish with the service they started with; a queued job
    takes the one current when it starts (``handlers.UserPkgHandler.submit``).
    """

    def __init__(self, rebuild: Callable[[Loaded], None], loaded: Loaded, interval: float) -> None:
        self.rebuild, self.interval = rebuild, interval
        #: What the current service was built from.
        self.loaded = loaded
        self._timer: PeriodicCallback | None = None
        self._reading: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Read every ``interval`` seconds from now on (idempotent; the first read one
        interval from now)."""
        if self._timer is None and self.interval > 0:
            self._timer = PeriodicCallback(self.poke, self.interval * 1000)
            self._timer.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def poke(self) -> None:
        """Read now, unless a read is under way."""
        if self._reading is None or self._reading.done():
            self._reading = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        from ..core.policy.sources import load

        try:
            loaded = await asyncio.to_thread(load)
        except Exception:  # a policy that cannot be read now: keep enforcing the last one
            return
        # Policies compare without their origins: a rule moved to another file counts too.
        if loaded != self.loaded or loaded.policy.origins != self.loaded.policy.origins:
            self.rebuild(loaded)  # should it fail, the next read tries again
            self.loaded = loaded
