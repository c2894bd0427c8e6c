"""The mirror's search index: one sorted text file users' servers memory-map.

Each line is ``key<TAB>source<TAB>name<TAB>versions<TAB>summary``, sorted by
``key`` (the normalised name), so a lookup is a binary search over the mapped
file: a hub holds one copy in the page cache instead of a project list per user.
The same read-only format serves a node-wide index an administrator seeds.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

FILENAME = "search-index.tsv"
FORMAT = "userpkg-search-index/1"
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Entry:
    key: str
    source: str
    name: str
    versions: tuple[str, ...]
    summary: str = ""

    def line(self) -> str:
        summary = _SPACE.sub(" ", self.summary).strip()
        return "\t".join([self.key, self.source, self.name, ",".join(self.versions), summary])


def render(entries: Iterable[Entry]) -> str:
    lines = sorted(e.line() for e in entries)
    return "".join(line + "\n" for line in lines)


def _parse(line: bytes) -> Entry:
    key, source, name, versions, summary = line.decode("utf-8").split("\t", 4)
    return Entry(key, source, name, tuple(v for v in versions.split(",") if v), summary)


def lookup(path: Path, prefix: str, limit: int = 20) -> list[Entry]:
    """Entries whose key starts with ``prefix`` (normalised), by a binary search."""
    key = re.sub(r"[-_.]+", "-", prefix).lower().encode()
    with open(path, "rb") as fh:
        if fh.seek(0, 2) == 0:
            return []
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            lo, hi = 0, len(data)
            while lo < hi:  # the first line whose key is >= the prefix
                mid = (lo + hi) // 2
                start = data.rfind(b"\n", 0, mid) + 1
                end = data.find(b"\t", start)
                if data[start:end] < key:
                    nxt = data.find(b"\n", mid)
                    lo = len(data) if nxt < 0 else nxt + 1
                else:
                    hi = start
            out: list[Entry] = []
            pos = lo
            while pos < len(data) and len(out) < limit:
                end = data.find(b"\n", pos)
                end = len(data) if end < 0 else end
                line = data[pos:end]
                if not line.startswith(key):
                    break
                out.append(_parse(line))
                pos = end + 1
            return out
