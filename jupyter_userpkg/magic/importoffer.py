"""``No module named X`` in a cell answered with the package that provides ``X``.

With ``%userpkg`` loaded, a cell that raises ``ModuleNotFoundError`` shows its
traceback as usual, with one note added to the error: the package that
provides the module, the evidence for it, and the ``%userpkg install`` line
that plans it (nothing is installed: the user runs that line, or the panel's
button, and sees the plan).  The answer is the ``provides`` verb's, asked of
the magic's own backend (in this process, or the server's Python through the
bridge), so the policy and the indexes are the administrator's.

IPython's ``set_custom_exc`` holds one handler for a set of exception types;
one the user set already is left in place.  The note is added with
``BaseException.add_note`` (PEP 678), so the error's own text carries it: the
notebook shows it in the error output, and the panel's observer reads it there.
A lookup that fails adds nothing: the error stays the error it was.
"""

from __future__ import annotations

import shlex
from typing import Any

#: The first line of the note, which the frontend recognises (and does not repeat).
MARK = "userpkg:"


def install(shell: Any, backend: Any) -> bool:
    """Let ``shell`` add the offer to ``ModuleNotFoundError``; False when a handler of the
    user's is already there (it stays)."""
    current = getattr(shell, "custom_exceptions", ())
    if current and getattr(shell, "_userpkg_offer", None) is None:
        return False

    def handler(
        self: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
    ) -> Any:
        note = offer_note(backend, value)
        if note and note not in getattr(value, "__notes__", ()):
            value.add_note(note)
        self.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.set_custom_exc((ModuleNotFoundError,), handler)
    shell._userpkg_offer = handler
    return True


def offer_note(backend: Any, error: BaseException) -> str | None:
    """The note for a ``ModuleNotFoundError``, or None (no name, or the lookup failed)."""
    name = getattr(error, "name", None)
    if not isinstance(name, str) or not name:
        return None
    try:
        reply = backend.run(f"provides {shlex.quote(name)}", None)
    except Exception:  # the error must stay the error it was, whatever the lookup did
        return None
    if getattr(reply, "error", None) or not isinstance(getattr(reply, "data", None), dict):
        return None
    return offer_text(reply.data)


def offer_text(data: dict[str, Any]) -> str:
    """The note's text from the ``provides`` answer (its JSON shape)."""
    name = str(data.get("name", ""))
    evidence = data.get("evidence") if isinstance(data.get("evidence"), dict) else None
    if not data.get("found") or evidence is None:
        return f"{MARK} no package known to provide {name!r}; search: %userpkg search {name}"
    package = str(data.get("package"))
    sure = "" if data.get("confidence") == "verified" else f" ({data.get('confidence')})"
    lines = [f"{MARK} {name} is provided by {package}{sure}: {evidence.get('text', '')}"]
    blocked = data.get("blocked")
    if isinstance(blocked, dict):
        reason = str(blocked.get("reason") or blocked.get("rule") or "")
        lines.append(f"  the administrator's policy refuses {package}: {reason}")
    elif data.get("install"):
        lines.append(f"  %userpkg {data['install']}")
    return "\n".join(lines)
