"""The core of jupyter-userpkg: no tornado, jupyter_server or IPython in here.

Front ends talk to :class:`~jupyter_userpkg.core.service.UserPkgService` only.
"""

from __future__ import annotations

from .errors import UserPkgError
from .service import UserPkgService

__all__ = ["UserPkgError", "UserPkgService"]
