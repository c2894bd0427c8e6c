"""Seed a node-wide search index where there is no filtered mirror (administrators).

``python -m jupyter_userpkg.commands.seedindex --output FILE [--index URL]
[--channel URL]...`` writes an index's project names and the channels' package
names in the mirror's search-index format (:mod:`..core.mirror.searchindex`),
replacing ``FILE`` in one rename, readable by all and writable by its writer
only.  The policy's ``search_index`` then names ``FILE``: every server of the
node maps that one file instead of fetching and holding the project list
itself.  Run it as the administrator (the file must be theirs to be read), from
cron, say daily.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from ..core.errors import UserPkgError
from ..core.mirror.searchindex import Entry, render
from ..core.namematch import normalize
from ..core.options import CondaOptions, SearchOptions
from ..core.pypi.index import PYPI_SIMPLE, PypiIndex


def entries(index: str, channels: list[str], cache: Path) -> list[Entry]:
    """The names of ``index`` (its project list) and of ``channels`` (their repodata)."""
    listing = PypiIndex(index, SearchOptions(cache_dir=str(cache / "search"))).projects()
    names = listing.names
    keys = names.keys.strip("\n").split("\n")
    shown = names.shown.strip("\n").split("\n")
    # A name spelled as its key is left empty: readers take the key (a third less to scan).
    out = [Entry(k, "pypi", "" if n == k else n, ()) for k, n in zip(keys, shown, strict=True) if k]
    if channels:
        from ..core.search import conda as condasearch

        options = CondaOptions(
            default_channels=tuple(channels), repodata_cache_dir=str(cache / "repodata")
        )
        found = condasearch.open_channels(options).names
        keys = found.keys.strip("\n").split("\n")
        out += [Entry(normalize(k), "conda", "" if normalize(k) == k else k, ()) for k in keys if k]
    return out


def write(path: Path, text: str) -> None:
    """Replace ``path`` in one rename; 0644 (users' servers read it, only its writer writes)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyter_userpkg.commands.seedindex")
    parser.add_argument("--output", required=True, type=Path, help="the index file to write")
    parser.add_argument("--index", default=PYPI_SIMPLE, help="a PEP 503/691 index (PyPI)")
    parser.add_argument("--channel", action="append", default=[], help="a conda channel URL")
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as cache:
            found = entries(args.index, args.channel, Path(cache))
        write(args.output, render(found))
    except (UserPkgError, OSError) as exc:
        print(f"seedindex: error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.output}: {len(found)} names")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # rattler's threads can crash a normal interpreter exit
