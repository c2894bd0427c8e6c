"""Ranked matching of a query against a large list of package names, in memory.

``search`` must answer in well under a tenth of a second over the whole PyPI
project list (close to a million names), so the list is not a Python list of
strings but two joined strings, one name per line, sorted by normalised name:

* ``keys``: the PEP 503 normalised names (``scikit-learn``);
* ``shown``: the names as the index spells them (``scikit_learn``), at the same
  offsets, so that one slice of each gives a match and its display name.  The
  rare name whose normalised form is shorter (``a__b`` -> ``a-b``) keeps its
  key in ``shown`` and its own spelling in ``odd``, by offset.

Because the keys are sorted, every name that starts with the query follows
the first one in one block (found with one ``str.find``); names that merely
contain it are found by ``str.find`` over the joined keys, which runs at the
speed of a memory scan.  Nothing here allocates per name but for results, and
two strings of about 15 MB hold all of PyPI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Match = Literal["exact", "prefix", "substring"]

_SEPARATORS = re.compile(r"[-_.]+")
#: What a query may hold: the characters of package names (PyPI's and conda's).
QUERY_RE = re.compile(r"[A-Za-z0-9._+-]{1,200}")


def normalize(name: str) -> str:
    """PEP 503's normalised form (``Foo__Bar.baz`` -> ``foo-bar-baz``), without packaging."""
    return _SEPARATORS.sub("-", name).lower()


@dataclass(frozen=True)
class Hit:
    """One name that matches a query, and how."""

    name: str
    key: str
    match: Match


class NameIndex:
    """Sorted package names, matched exact first, then by prefix, then by substring."""

    def __init__(self, keys: str, shown: str, odd: dict[int, str] | None = None) -> None:
        """From the joined forms (see the module's docstring); both start and end with a newline."""
        if not (keys.startswith("\n") and keys.endswith("\n")) or len(keys) != len(shown):
            raise ValueError("keys and shown names must be aligned, newline-framed strings")
        self.keys = keys
        self.shown = shown
        self.odd = odd or {}

    @classmethod
    def build(cls, names: Iterable[str]) -> NameIndex:
        """From names as an index spells them.

        Two names with one normalised form (conda's ``python_abi`` and a
        ``python-abi``) are both kept: conda names are not normalised by conda.
        Names that cannot be package names (not ASCII, or holding a line break)
        are left out; one of them would make the joined strings four times bigger.
        """
        pairs = sorted(
            {
                (normalize(n), n)
                for n in (n.strip() for n in names)
                if n and n.isascii() and "\n" not in n and "\0" not in n
            }
        )
        keys, shown, odd = ["\n"], ["\n"], {}
        at = 1
        for key, name in pairs:
            if len(name) != len(key):
                odd[at] = name
                name = key
            keys.append(key + "\n")
            shown.append(name + "\n")
            at += len(key) + 1
        return cls("".join(keys), "".join(shown), odd)

    def __len__(self) -> int:
        return self.keys.count("\n") - 1

    def __contains__(self, name: str) -> bool:
        return f"\n{normalize(name)}\n" in self.keys

    def spelling(self, name: str) -> str | None:
        """How the index spells ``name`` (any spelling of it), or None if it has no such name."""
        start = self.keys.find(f"\n{normalize(name)}\n")
        return None if start < 0 else self._shown(start + 1, start + 1 + len(normalize(name)))

    def _shown(self, start: int, end: int) -> str:
        return self.odd.get(start) or self.shown[start:end]

    def match(self, query: str, limit: int) -> list[Hit]:
        """Up to ``limit`` names: the exact one(s), then prefixes, then substrings.

        Within each group, names come in the order of their normalised forms:
        a name sorts before its longer relatives (``numpy`` before ``numpy-financial``),
        so the exact name leads the block of names it starts.
        """
        q = normalize(query)
        if not q or "\n" in q or limit <= 0:
            return []
        keys = self.keys
        hits: list[Hit] = []
        # Prefix block: every key starting with q follows the first such key.
        pos = keys.find("\n" + q)
        while pos >= 0 and len(hits) < limit and keys.startswith(q, pos + 1):
            start = pos + 1
            end = keys.index("\n", start)
            key = keys[start:end]
            hits.append(Hit(self._shown(start, end), key, "exact" if key == q else "prefix"))
            pos = end
        # Substrings: skip the hits at a line start (those are the prefixes above).
        pos = 0
        while len(hits) < limit:
            at = keys.find(q, pos)
            if at < 0:
                break
            start = keys.rfind("\n", 0, at) + 1
            end = keys.index("\n", at)
            if start != at:
                hits.append(Hit(self._shown(start, end), keys[start:end], "substring"))
            pos = end + 1
        return hits
