"""Run a command with ``policy.json`` as the administrator's policy.

The policy is ``/etc/jupyter/jupyter_userpkg_policy.json`` of a private mount
namespace (``tests/namespace.py``: an overlay over ``/etc`` for this process tree
only, so the machine's own ``/etc`` is untouched), the place an administrator
puts it: no variable names a policy.  Needs root (CI runs as root).

Usage: ``python with_admin_policy.py jupyter lab --config ...`` (``jlpm start:policy``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the project's tests/ package

from tests import namespace  # noqa: E402


def main() -> None:
    reason = namespace.available()
    if reason:
        sys.exit(f"the policy server of the browser tests cannot start: {reason}")
    run_dir = os.environ.get("USERPKG_UI_RUN_DIR")
    base = Path(run_dir) / "admin-etc" if run_dir else Path(tempfile.mkdtemp())
    base.mkdir(parents=True, exist_ok=True)
    upper, _ = namespace.etc_dirs(base)
    shutil.copy(HERE / "policy.json", upper / "jupyter" / "jupyter_userpkg_policy.json")
    argv = namespace.wrap(sys.argv[1:], base)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
