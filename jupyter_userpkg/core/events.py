"""Progress as structured events, the same for every front end.

The pipeline and the engines report what they do as :class:`ProgressEvent`
values: a phase, a line for a person, and, where the engine knows them, the
package concerned and a count (packages linked of the plan's, bytes downloaded
of the artifact's size).  Phases: ``wait``, ``create``, ``solve``, ``download``,
``remove``, ``install``, ``commit``.  The CLI draws them as one status line,
the cell as an output updated in place; REST jobs will keep them as the job's
``events``.

This module imports nothing of the project: engines may use it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a command's progress.

    ``done``/``total`` count packages for ``install``/``remove`` (linked or
    unlinked so far, of the plan's) and bytes for ``download`` (``total`` is
    None when the engine does not know it).
    """

    phase: str
    message: str
    package: str | None = None
    done: int | None = None
    total: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "message": self.message,
            "package": self.package,
            "done": self.done,
            "total": self.total,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProgressEvent:
        """Read an event back (the bridge's JSON lines); unknown keys are ignored."""

        def count(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        package = data.get("package")
        return cls(
            phase=str(data.get("phase", "")),
            message=str(data.get("message", "")),
            package=package if isinstance(package, str) else None,
            done=count("done"),
            total=count("total"),
        )


#: The ``wait`` event's line: said only while another change of the env runs
#: (another writer holds its lock, or an earlier job of the server's queue runs).
WAITING = "waiting for an earlier change of this environment to finish"

#: A front end's progress callback.
ProgressFn = Callable[[ProgressEvent], None]


class Reporter:
    """What the pipeline and the kinds hold: report an event if anyone listens."""

    def __init__(self, sink: ProgressFn | None = None) -> None:
        self.sink = sink

    def __call__(
        self,
        phase: str,
        message: str,
        *,
        package: str | None = None,
        done: int | None = None,
        total: int | None = None,
    ) -> None:
        if self.sink is not None:
            self.sink(ProgressEvent(phase, message, package, done, total))

    def uv_lines(self, total: int | None = None) -> Callable[[str], None] | None:
        """A line handler for uv's stderr that turns its report into events.

        uv says ``Downloading NAME (SIZE)`` for large artifacts, then one
        `` + NAME==VERSION`` / `` - NAME==VERSION`` line per package it installed or
        removed: those become ``download`` and ``install``/``remove`` events counted
        against ``total`` (the plan's count of packages to install).
        """
        if self.sink is None:
            return None
        linked = unlinked = 0

        def forward(line: str) -> None:
            nonlocal linked, unlinked
            text = line.strip()
            if text.startswith(("+ ", "- ", "~ ")):
                name = text[2:].split("==", 1)[0].strip()
                if text[0] == "-":
                    unlinked += 1
                    self("remove", text, package=name, done=unlinked)
                else:
                    linked += 1
                    self("install", text, package=name, done=linked, total=total)
            elif text.startswith(("Downloading", "Downloaded")):
                words = text.split()
                self("download", text, package=words[1] if len(words) > 1 else None)
            elif text.startswith(("Prepared", "Uninstalled", "Installed")):
                phase = {"P": "download", "U": "remove", "I": "install"}[text[0]]
                self(phase, text)
            # Anything else (warnings, an offline attempt's "not cached" errors) is not
            # progress: failures reach the user as errors, once.

        return forward
