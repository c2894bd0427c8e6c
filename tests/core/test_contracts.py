"""The allow-list import contract: an engine importing anything off its list breaks it."""

from __future__ import annotations

import grimp

from scripts.importrules import AllowedContract


def _contract() -> AllowedContract:
    return AllowedContract(
        "engine",
        {},
        {
            "root": "pkg",
            "source_packages": ["pkg.core.conda"],
            "allowed_modules": ["pkg.core.errors"],
        },
    )


def _graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.core", "pkg.core.conda", "pkg.core.conda.solve"):
        graph.add_module(name)
    for name in ("pkg.core.errors", "pkg.core.policy", "pkg.core.store"):
        graph.add_module(name)
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported, line_number=3, line_contents="")
    return graph


def test_own_package_and_the_list_are_kept() -> None:
    graph = _graph(
        ("pkg.core.conda.solve", "pkg.core.errors"),
        ("pkg.core.conda.solve", "pkg.core.conda"),
    )
    assert _contract().check(graph, verbose=False).kept


def test_anything_else_of_the_project_breaks_it() -> None:
    graph = _graph(
        ("pkg.core.conda.solve", "pkg.core.policy"),
        ("pkg.core.conda", "pkg.core.store"),
    )
    check = _contract().check(graph, verbose=False)
    assert not check.kept
    assert check.metadata["broken"] == [
        "pkg.core.conda:3 imports pkg.core.store",
        "pkg.core.conda.solve:3 imports pkg.core.policy",
    ]
