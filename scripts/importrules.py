"""An allow-list import contract for import-linter (``type = "allowed"``).

import-linter's own contracts forbid; an engine's rule is better said the other way
round: it may import its own package and a short list of modules, nothing else of
this project, so a new module of the core is outside an engine's reach by default.
"""

from __future__ import annotations

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class AllowedContract(Contract):
    """Modules of ``source_packages`` import, of ``root``, only their own package and
    ``allowed_modules`` (each with its descendants)."""

    type_name = "allowed"

    source_packages = fields.ListField(subfield=fields.StringField())
    allowed_modules = fields.ListField(subfield=fields.StringField())
    root = fields.StringField()

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        """Every import out of a source package into ``root`` is on the list."""
        root = str(self.root)
        allowed = [str(m) for m in self.allowed_modules]  # type: ignore[attr-defined]
        broken: list[str] = []
        for package in (str(p) for p in self.source_packages):  # type: ignore[attr-defined]
            inside = {package, *graph.find_descendants(package)}
            for importer in sorted(inside):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    if not (imported == root or imported.startswith(root + ".")):
                        continue
                    if _within(imported, [package, *allowed]):
                        continue
                    lines = graph.get_import_details(importer=importer, imported=imported)
                    where = f":{lines[0]['line_number']}" if lines else ""
                    broken.append(f"{importer}{where} imports {imported}")
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        """One line per import that is not on the list."""
        for line in check.metadata["broken"]:
            output.print_error(line)
            output.new_line()


def _within(module: str, packages: list[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)
