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
from collections.abc import Callable
from typing import Any

from ..core.records import EnvInfo
from ..core.service import UserPkgService

#: What a client needs to notice: the revision, the kind (``broken``) and the kernel.
Stamp = tuple[int, str, str | None]


class EnvWatcher:
    """Compares the envs with the last look and emits what changed."""

    def __init__(
        self, service: UserPkgService, emit: Callable[[dict[str, Any]], None], interval: float
    ) -> None:
        self.service = service
        self.emit = emit
        self.interval = interval
        self._seen: dict[str, Stamp] | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        if self._task is None and self.interval > 0:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def poke(self) -> None:
        """Look now (after a job of the server finished)."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # a look that fails is retried next time
                await self.look()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()

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
    return (info.revision, info.kind, info.kernel)
