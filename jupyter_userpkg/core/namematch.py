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
the first one in one block (found with one ``str.find``); names that hold it
as a whole segment (``python-slugify`` for ``slugify``) or merely contain it
are found by ``str.find`` over the joined keys, which runs at the speed of a
memory scan.  Whether a name exists is a binary search over the sorted keys,
fast enough to try every name one edit away from a query ("did you mean").
Nothing here allocates per name but for results, and two strings of about
15 MB hold all of PyPI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Match = Literal["exact", "segment", "prefix", "substring"]

_SEPARATORS = re.compile(r"[-_.]+")
#: What a query may hold: the characters of package names (PyPI's and conda's).
QUERY_RE = re.compile(r"[A-Za-z0-9._+-]{1,200}")
#: The characters an edit of a query may bring in ("did you mean").
_EDIT_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"
#: Queries longer than this get no suggestions (too many candidate edits).
_SUGGEST_MAX = 40


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

    def has_key(self, key: str) -> bool:
        """Whether a normalised name is in the index: a binary search over the sorted keys."""
        keys = self.keys
        lo, hi = 0, len(keys)
        while lo < hi:
            mid = (lo + hi) // 2
            start = keys.rfind("\n", 0, mid) + 1
            end = keys.find("\n", start)
            if end < 0:
                return False
            line = keys[start:end]
            if line == key:
                return True
            if line < key:
                lo = end + 1
            else:
                hi = start
        return False

    def suggest(self, query: str, limit: int = 3) -> list[str]:
        """Names one edit away from ``query`` (two letters swapped, one left out, changed or
        added), as the index spells them; swaps first, then the others in that order."""
        q = normalize(query)
        if not q or len(q) > _SUGGEST_MAX or "\n" in q:
            return []
        found: list[str] = []
        for key in _edits(q):
            if key != q and key not in found and self.has_key(key):
                found.append(key)
                if len(found) >= limit:
                    break
        return [self.spelling(k) or k for k in found]

    def match(self, query: str, limit: int) -> list[Hit]:
        """Up to ``limit`` names: the exact one(s), then those holding the query as a whole
        segment, then the other prefixes, then substrings.

        Within the exact and prefix groups, names come in the order of their normalised
        forms; segments that start the name (``slugify-cli``) come before those inside it
        (``python-slugify``), shorter names first.
        """
        q = normalize(query)
        if not q or "\n" in q or limit <= 0:
            return []
        keys = self.keys
        exact: list[Hit] = []
        segment: dict[int, Hit] = {}
        prefix: list[Hit] = []
        # Prefix block: every key starting with q follows the first such key.
        pos = keys.find("\n" + q)
        while pos >= 0 and len(exact) + len(segment) + len(prefix) < limit:
            if not keys.startswith(q, pos + 1):
                break
            start = pos + 1
            end = keys.index("\n", start)
            key = keys[start:end]
            hit = Hit(self._shown(start, end), key, "exact" if key == q else "prefix")
            if key == q:
                exact.append(hit)
            elif key[len(q)] == "-":
                segment[start] = Hit(hit.name, key, "segment")
            else:
                prefix.append(hit)
            pos = end
        inner: dict[int, Hit] = {}
        for pattern in (f"-{q}-", f"-{q}\n"):
            at = keys.find(pattern)
            while at >= 0 and len(inner) < limit:
                start = keys.rfind("\n", 0, at) + 1
                end = keys.index("\n", at + 1)
                inner.setdefault(start, Hit(self._shown(start, end), keys[start:end], "segment"))
                at = keys.find(pattern, end)
        ranked = sorted(inner.values(), key=lambda h: (len(h.key), h.key))
        hits = exact + list(segment.values()) + ranked + prefix
        seen = {h.key for h in hits}
        # Substrings: skip the hits at a line start (those are the prefixes above).
        pos = 0
        while len(hits) < limit:
            at = keys.find(q, pos)
            if at < 0:
                break
            start = keys.rfind("\n", 0, at) + 1
            end = keys.index("\n", at)
            if start != at and keys[start:end] not in seen:
                hits.append(Hit(self._shown(start, end), keys[start:end], "substring"))
            pos = end + 1
        return hits[:limit]


def _edits(q: str) -> list[str]:
    """Every string one edit away from ``q``: swaps of neighbours, deletions, changes, additions."""
    swaps = [q[:i] + q[i + 1] + q[i] + q[i + 2 :] for i in range(len(q) - 1)]
    deletes = [q[:i] + q[i + 1 :] for i in range(len(q))] if len(q) > 2 else []
    changes = [q[:i] + c + q[i + 1 :] for i in range(len(q)) for c in _EDIT_CHARS if c != q[i]]
    adds = [q[:i] + c + q[i:] for i in range(len(q) + 1) for c in _EDIT_CHARS]
    return swaps + deletes + changes + adds
