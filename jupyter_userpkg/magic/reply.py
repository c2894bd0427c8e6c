"""What a ``%userpkg`` line answers: one typed shape for both of the magic's paths.

The command layer answers every front end with an :class:`~..commands.dispatch.Outcome`
(or a :class:`~..core.errors.UserPkgError`).  A cell renders that outcome where
the core runs: in the kernel (:mod:`.backend`), or in the server's Python for a
kernel that cannot import the core (:mod:`.bridge`), which sends it across a
pipe as one JSON line.  :class:`Reply` is that rendered outcome, the same object
on both sides of the pipe, so the cell draws one shape and never reads a dict by
guessed keys.  It imports only the standard library: the kernel of a venv env
loads it without the core's libraries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    """An outcome as a cell shows it.

    ``error`` holds the lines of a failure (the message, then the solver's
    explanation) and nothing else is set; otherwise ``text`` is the rendered
    outcome, ``data`` its JSON shape, ``result`` says that ``data`` is a change's
    result (a plan, applied or not) and ``stale`` names the imported modules the
    change replaced.  ``ends_kernel``: the line deleted the env this kernel runs
    on, and the kernel is shut down once the cell has shown the answer.
    """

    verb: str = ""
    text: str = ""
    data: Any = None
    result: bool = False
    stale: tuple[str, ...] = ()
    error: tuple[str, ...] = field(default=())
    ends_kernel: bool = False

    @classmethod
    def failed(cls, *lines: str) -> Reply:
        """A failure, said in ``lines`` (the first is the message)."""
        return cls(error=lines or ("failed",))

    @property
    def applied(self) -> bool:
        """Whether this is a change's result that was applied."""
        return self.result and isinstance(self.data, dict) and bool(self.data.get("applied"))

    @property
    def changed_env(self) -> str | None:
        """The env an applied change changed."""
        if not self.applied:
            return None
        plan = self.data.get("plan")
        env = plan.get("env") if isinstance(plan, dict) else None
        return env if isinstance(env, str) else None

    @property
    def changes(self) -> list[dict[str, Any]]:
        """The changes of an applied change's plan, as ``Change.to_dict()`` gives them."""
        if not self.applied:
            return []
        changes = self.data["plan"].get("changes")
        return [c for c in changes if isinstance(c, dict)] if isinstance(changes, list) else []

    def to_json(self) -> str:
        """One JSON line, as the bridge writes it."""
        return json.dumps(
            {
                "verb": self.verb,
                "text": self.text,
                "data": self.data,
                "result": self.result,
                "stale": list(self.stale),
                "error": list(self.error),
                "ends_kernel": self.ends_kernel,
            }
        )

    @classmethod
    def from_json(cls, line: str) -> Reply:
        """The reply the bridge wrote; ValueError when the line is not one."""
        raw = json.loads(line)
        if not isinstance(raw, dict):
            raise ValueError("a reply is a JSON object")
        error = raw.get("error") or []
        stale = raw.get("stale") or []
        if not isinstance(error, list) or not all(isinstance(x, str) for x in error):
            raise ValueError("a reply's error is a list of lines")
        if not isinstance(stale, list) or not all(isinstance(x, str) for x in stale):
            raise ValueError("a reply's stale is a list of names")
        verb, text = raw.get("verb", ""), raw.get("text", "")
        if not isinstance(verb, str) or not isinstance(text, str):
            raise ValueError("a reply's verb and text are strings")
        return cls(
            verb=verb,
            text=text,
            data=raw.get("data"),
            result=raw.get("result") is True,
            stale=tuple(stale),
            error=tuple(error),
            ends_kernel=raw.get("ends_kernel") is True,
        )
