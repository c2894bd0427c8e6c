"""The size gate names a module over 500 lines and a function over 80, in both languages."""

from __future__ import annotations

from scripts.sizes import python_functions, typescript_functions


def test_python_functions_are_measured_from_def_to_last_line() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(85))
    source = f"class A:\n    def short(self):\n        pass\n\n\ndef long():\n{body}"
    assert list(python_functions(source)) == [("A.short", 2, 2), ("long", 6, 86)]


def test_typescript_functions_methods_and_arrows() -> None:
    body = "".join(f"  const x{i} = '{{';\n" for i in range(81))
    source = (
        f"export function Big(props: P): JSX.Element {{\n{body}  return <div />;\n}}\n"
        "const small = (a: number) => {\n  return a;\n};\n"
        "class M {\n  method(a: string): void {\n    if (a) {\n      go();\n    }\n  }\n}\n"
    )
    found = {name: length for name, _, length in typescript_functions(source)}
    assert found == {"Big": 84, "small": 3, "method": 5}
