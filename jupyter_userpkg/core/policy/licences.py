"""Licences as packages declare them, compared with the policy's allowed ones.

Packages state their licence in three ways: an SPDX expression (PEP 639's
``License-Expression``, most conda recipes' ``license``), a trove classifier
(``License :: OSI Approved :: MIT License``) or free text (``BSD 3-Clause``,
``Apache 2.0``).  Each is reduced to SPDX identifiers before comparison; an
expression is allowed when one of its ``OR`` alternatives has every ``AND``
part allowed.  What cannot be read as a licence is not allowed: an
administrator who lists licences wants to know, not to guess.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

#: Trove classifiers and common free-text spellings -> SPDX identifiers.
_ALIASES = {
    "mit license": "MIT",
    "mit": "MIT",
    "bsd license": "BSD-3-Clause",
    "bsd": "BSD-3-Clause",
    "new bsd": "BSD-3-Clause",
    "bsd 3-clause": "BSD-3-Clause",
    "bsd-3": "BSD-3-Clause",
    "3-clause bsd": "BSD-3-Clause",
    "bsd 2-clause": "BSD-2-Clause",
    "simplified bsd": "BSD-2-Clause",
    "apache software license": "Apache-2.0",
    "apache 2.0": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "apache 2": "Apache-2.0",
    "apache": "Apache-2.0",
    "python software foundation license": "PSF-2.0",
    "psf": "PSF-2.0",
    "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0",
    "isc license (iscl)": "ISC",
    "gnu general public license v2 (gplv2)": "GPL-2.0-only",
    "gnu general public license v3 (gplv3)": "GPL-3.0-only",
    "gnu general public license v2 or later (gplv2+)": "GPL-2.0-or-later",
    "gnu general public license v3 or later (gplv3+)": "GPL-3.0-or-later",
    "gnu lesser general public license v3 (lgplv3)": "LGPL-3.0-only",
    "gnu lesser general public license v2 or later (lgplv2+)": "LGPL-2.0-or-later",
    "gnu affero general public license v3": "AGPL-3.0-only",
    "gpl": "GPL-3.0-or-later",
    "gplv3": "GPL-3.0-only",
    "gpl-3": "GPL-3.0-only",
    "gpl-2": "GPL-2.0-only",
    "lgpl": "LGPL-3.0-or-later",
    "public domain": "LicenseRef-Public-Domain",
    "the unlicense (unlicense)": "Unlicense",
    "zope public license": "ZPL-2.1",
}


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip()).lower()


def identifiers(text: str) -> list[list[str]]:
    """The licence as OR-alternatives of AND-ed SPDX identifiers (lower case)."""
    text = text.strip()
    if text.startswith("License ::"):
        text = text.rsplit("::", 1)[-1]
    alias = _ALIASES.get(_key(text))
    if alias:
        return [[alias.lower()]]
    try:
        return _Expression(text).parse()
    except ValueError:  # not an expression: not a licence anyone can check
        return []


class _Expression:
    """An SPDX expression (or free text) as OR-alternatives of AND-ed identifiers.

    ``WITH`` binds tightest (the exception is dropped: it only adds permissions),
    then ``AND``, then ``OR``; parentheses group.  Words next to each other are one
    identifier (``Apache License 2.0``), looked up among the aliases.
    """

    _OPERATORS = ("and", "or", "with", "(", ")")

    def __init__(self, text: str) -> None:
        self.tokens = re.findall(r"\(|\)|[^\s()]+", text)
        self.pos = 0

    def parse(self) -> list[list[str]]:
        result = self._or()
        if self.pos != len(self.tokens):
            raise ValueError("unexpected text after the expression")
        return result

    def _peek(self) -> str:
        return self.tokens[self.pos].lower() if self.pos < len(self.tokens) else ""

    def _or(self) -> list[list[str]]:
        out = self._and()
        while self._peek() == "or":
            self.pos += 1
            out = out + self._and()
        return out

    def _and(self) -> list[list[str]]:
        out = self._atom()
        while self._peek() == "and":
            self.pos += 1
            right = self._atom()
            out = [a + b for a in out for b in right]
        return out

    def _atom(self) -> list[list[str]]:
        if self._peek() == "(":
            self.pos += 1
            inner = self._or()
            if self._peek() != ")":
                raise ValueError("unbalanced parentheses")
            self.pos += 1
            return inner
        words = self._words()
        if self._peek() == "with":
            self.pos += 1
            self._words()
        return [[_canonical(" ".join(words))]]

    def _words(self) -> list[str]:
        start = self.pos
        while self.pos < len(self.tokens) and self._peek() not in self._OPERATORS:
            self.pos += 1
        if self.pos == start:
            raise ValueError("a licence identifier is missing")
        return self.tokens[start : self.pos]


def allowed(text: str, allowed_ids: Iterable[str]) -> bool:
    """Does the licence ``text`` fit the allowed SPDX identifiers?"""
    return _allowed(text, tuple(allowed_ids))


@functools.lru_cache(maxsize=4096)
def _allowed(text: str, allowed_ids: tuple[str, ...]) -> bool:
    """:func:`allowed`, once per licence text: a channel has few of them, used again and again."""
    if _key(text) in {_key(i) for i in allowed_ids}:  # as the administrator wrote it
        return True
    wanted = {_canonical(i) for i in allowed_ids}
    return any(all(i in wanted for i in option) for option in identifiers(text))


def _canonical(licence: str) -> str:
    """One allowed licence as :func:`identifiers` spells what packages declare."""
    return (_ALIASES.get(_key(licence)) or licence.strip().replace(" ", "-")).lower()


def of_metadata(metadata: str) -> str | None:
    """A wheel's licence from its core metadata: ``License-Expression``, else the
    licence classifiers, else a one-line ``License`` field."""
    from email.parser import HeaderParser

    msg = HeaderParser().parsestr(metadata)
    return of_fields(
        msg.get("License-Expression"), msg.get_all("Classifier") or [], msg.get("License")
    )


def of_fields(expression: object, classifiers: Iterable[object], text: object) -> str | None:
    """The licence from core metadata's fields (or the JSON API's ``license_expression``,
    ``classifiers`` and ``license``), judged the same way whichever way they came."""
    if expression and str(expression).strip():
        return str(expression).strip()
    classified = [
        str(c).rsplit("::", 1)[-1].strip()
        for c in classifiers
        if str(c).startswith("License ::") and str(c).count("::") >= 2
    ]
    if classified:
        return " OR ".join(dict.fromkeys(classified))
    field = str(text or "").strip()
    if field.upper() in ("UNKNOWN", "NONE"):
        return None
    return field if field and "\n" not in field and len(field) < 80 else None
