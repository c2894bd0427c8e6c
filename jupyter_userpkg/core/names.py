"""Validation of environment names, before any file is touched."""

from __future__ import annotations

import re

from .errors import InvalidEnvName

#: Matched in full (``fullmatch``): a trailing newline is not part of a name.
ENV_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DEFAULT_ENV = "default"


def validate_env_name(name: str) -> str:
    """Return ``name`` if it can name an environment, else raise InvalidEnvName.

    Names become directory names, so anything that could escape the envs
    directory (``..``, ``/``) or confuse a shell is refused.
    """
    if not isinstance(name, str) or not ENV_NAME_RE.fullmatch(name) or name.endswith(".tmp"):
        shown = name if isinstance(name, str) and len(name) <= 40 else f"{str(name)[:40]}..."
        raise InvalidEnvName(
            f"invalid environment name {shown!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name
