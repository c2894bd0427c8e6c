"""An imported lock loses our ``[tool.jupyter-userpkg]`` table and nothing else, whether the
line-wise strip applies or tomlkit has to do it."""

from __future__ import annotations

import tomllib

import pytest

from jupyter_userpkg.core.kinds.pypi import strip_tool_table

LOCK = """\
lock-version = "1.0"
created-by = "jupyter-userpkg"
requires-python = ">=3.11"

[[packages]]
name = "six"
version = "1.17.0"
wheels = [
  { url = "https://files.example/six-1.17.0-py2.py3-none-any.whl", hashes = { sha256 = "ab" } },
]

[tool.jupyter-userpkg]
kind = "venv"
requests = ["six"]

[tool.jupyter-userpkg.manifest]
python = "3.11"

[[tool.jupyter-userpkg.extra]]
name = "x"

[[packages]]
name = "tabulate"
version = "0.9.0"
"""


def without_tool(text: str) -> dict[str, object]:
    return {k: v for k, v in tomllib.loads(text).items() if k != "tool"}


def test_the_tool_tables_go_and_every_other_line_stays() -> None:
    stripped = strip_tool_table(LOCK)
    assert tomllib.loads(stripped) == without_tool(LOCK)
    assert "tool" not in stripped
    # The packages' lines are the lock's own, byte for byte.
    assert stripped.startswith(LOCK.split("[tool.")[0])
    assert stripped.endswith('[[packages]]\nname = "tabulate"\nversion = "0.9.0"\n')


@pytest.mark.parametrize(
    "text",
    [
        # A tool key written inline, before any table: no header line to drop.
        'tool.jupyter-userpkg.kind = "venv"\nlock-version = "1.0"\n',
        'lock-version = "1.0"\ntool = { jupyter-userpkg = { kind = "venv" } }\n',
        # A string whose lines look like a tool table: they are the string's, kept.
        'note = """\n[tool]\nkind = 1\n"""\n\n[tool.jupyter-userpkg]\nkind = "venv"\n',
        # A quoted header.
        '["tool".jupyter-userpkg]\nkind = "venv"\n\n[[packages]]\nname = "six"\n',
    ],
)
def test_what_lines_cannot_strip_is_stripped_all_the_same(text: str) -> None:
    stripped = strip_tool_table(text)
    assert tomllib.loads(stripped) == without_tool(text)
    assert "tool" not in tomllib.loads(stripped)


def test_a_lock_without_tool_is_unchanged() -> None:
    text = LOCK.split("[tool.")[0]
    assert strip_tool_table(text) == text
