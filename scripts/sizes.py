"""The size rule as a gate: no module over 500 lines, no function over 80 (tests excluded).

A module that grows past 500 lines holds more than one concept, a function past
80 more than one step; either is split by concept, never by size alone.  Run
from the repository's root; exits 1 naming every module and function over its
limit.  Python functions are measured from their ``def`` to their last line;
TypeScript ones from their opening line to the brace that closes them.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

MODULE_LIMIT = 500
FUNCTION_LIMIT = 80
PYTHON = ["jupyter_userpkg"]
TYPESCRIPT = ["src"]
SKIP = ("labextension", "__tests__", "node_modules")
#: Functions allowed over the limit, each at most as long as it is here; none may join
#: this list (the panel's create form and plan view, once here, were split by the parts
#: they render).
KNOWN: dict[str, int] = {}

#: The opening line of a TypeScript function, method or arrow function with a body.
_TS_FUNCTION = re.compile(
    r"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?"
    r"(?:function\s*\*?\s*(?P<fn>\w+)"
    r"|(?:const|let)\s+(?P<arrow>\w+)\s*(?::[^=]+)?=\s*(?:async\s+)?(?:\([^)]*\)|\w+)[^=]*=>"
    r"|(?:(?:public|private|protected|static|readonly|get|set|async)\s+)*"
    r"(?P<method>(?!if\b|for\b|while\b|switch\b|catch\b|return\b)\w+)\s*(?:<[^>]*>)?\([^;]*\)\s*(?::[^{;]+)?\{\s*$)"
)


def _files(roots: list[str], suffixes: tuple[str, ...]) -> Iterator[Path]:
    tests = (".spec.ts", ".spec.tsx", ".d.ts")
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            skipped = any(p in SKIP for p in path.parts) or path.name.endswith(tests)
            if path.suffix in suffixes and not skipped:
                yield path


def python_functions(source: str) -> Iterator[tuple[str, int, int]]:
    """(qualified name, first line, line count) of every function."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                end = child.end_lineno or child.lineno
                yield name, child.lineno, end - child.lineno + 1
                yield from walk(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")

    yield from walk(ast.parse(source), "")


def typescript_functions(source: str) -> Iterator[tuple[str, int, int]]:
    """(name, first line, line count) of every function whose body is a brace block."""
    lines = source.splitlines()
    for number, line in enumerate(lines):
        match = _TS_FUNCTION.match(line)
        rest = line[match.end() - 1 :] + "".join(lines[number + 1 : number + 2]) if match else ""
        if not match or "{" not in rest:
            continue
        name = match.group("fn") or match.group("arrow") or match.group("method")
        depth, started = 0, False
        for end in range(number, len(lines)):
            text = re.sub(r"(['\"`])(?:\\.|(?!\1).)*\1|//.*$", "", lines[end])
            depth += text.count("{") - text.count("}")
            started = started or "{" in text
            if started and depth <= 0:
                yield name, number + 1, end - number + 1
                break


def main() -> int:
    """Print every module and function over its limit; 1 when there is one."""
    over: list[str] = []
    for path in [*_files(PYTHON, (".py",)), *_files(TYPESCRIPT, (".ts", ".tsx"))]:
        source = path.read_text(encoding="utf-8")
        count = len(source.splitlines())
        if count > MODULE_LIMIT:
            over.append(f"{path}: {count} lines (module limit {MODULE_LIMIT})")
        measure = python_functions if path.suffix == ".py" else typescript_functions
        for name, line, length in measure(source):
            if length > KNOWN.get(f"{path}:{name}", FUNCTION_LIMIT):
                over.append(f"{path}:{line}: {name} is {length} lines (limit {FUNCTION_LIMIT})")
    for line in over:
        print(line, file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
