"""What the user asked for in one env (pixi-like ``manifest.toml``), and its entries.

Its own module: kinds, exports and the policy read manifests without the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .specs import canonical_name

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from tomlkit.items import Table


@dataclass(frozen=True)
class Manifest:
    """What the user asked for in one environment."""

    name: str
    kind: str
    python: str
    base_python: str = ""
    base_site: tuple[str, ...] = ()
    #: A layer over another env of this project (an administrator's shared env): its
    #: prefix, and the revision of it this layer was last solved against.
    base_env: str = ""
    base_revision: int = -1
    pypi: dict[str, str] = field(default_factory=dict)  # canonical name -> PEP 508 string
    #: conda envs: package name -> MatchSpec text, and the channels (URLs) in priority order.
    conda: dict[str, str] = field(default_factory=dict)
    channels: tuple[str, ...] = ()
    #: False for an env made with ``--no-kernel``: no kernelspecs for it (see ``kernels``).
    kernels: bool = True

    def requirements(self) -> list[str]:
        return list(self.pypi.values())

    def with_pypi(self, reqs: list[Requirement]) -> Manifest:
        pypi = dict(self.pypi)
        for req in reqs:
            pypi[canonical_name(req.name)] = str(req)
        return replace(self, pypi=pypi)

    def without_pypi(self, names: Sequence[str]) -> Manifest:
        return replace(self, pypi={k: v for k, v in self.pypi.items() if k not in set(names)})

    def with_conda(self, specs: dict[str, str]) -> Manifest:
        return replace(self, conda={**self.conda, **specs})

    def without_conda(self, names: Sequence[str]) -> Manifest:
        return replace(self, conda={k: v for k, v in self.conda.items() if k not in set(names)})

    @property
    def text(self) -> str:
        """The manifest file's text (what a plan's commit writes)."""
        return self.to_toml()

    def to_toml(self) -> str:
        import tomlkit

        doc = tomlkit.document()
        doc.add(tomlkit.comment("jupyter-userpkg manifest: what was asked for in this environment"))
        env = tomlkit.table()
        env["name"] = self.name
        env["kind"] = self.kind
        env["python"] = self.python
        if self.base_python:
            env["base-python"] = self.base_python
            env["base-site-packages"] = list(self.base_site)
        if self.base_env:
            env["base-env"] = self.base_env
            env["base-revision"] = self.base_revision
        has_conda = bool(self.channels or self.conda)  # an env with a conda layer
        if has_conda:
            env["channels"] = list(self.channels)
        if not self.kernels:
            env["kernels"] = False
        doc["env"] = env
        if has_conda:
            doc["dependencies"] = self.conda_table()
        doc["pypi-dependencies"] = self.pypi_table()
        return tomlkit.dumps(doc)

    def conda_table(self) -> Table:
        """``[dependencies]``: ``name = "version"``, or the whole MatchSpec when it says more."""
        import tomlkit

        deps = tomlkit.table()
        for name in sorted(self.conda):
            spec = self.conda[name]
            rest = spec[len(name) :].strip() if spec.startswith(name) else spec
            simple = spec.startswith(name) and not any(c in rest for c in " []=:")
            deps[name] = (rest or "*") if simple else spec
        return deps

    def pypi_table(self) -> Table:
        """``[pypi-dependencies]``: ``name = "specifier"``, or a table for extras/markers.

        The inverse of :func:`manifest_entry_to_requirement`.
        """
        import tomlkit
        from packaging.requirements import Requirement

        deps = tomlkit.table()
        for key in sorted(self.pypi):
            req = Requirement(self.pypi[key])
            if not req.extras and not req.marker:
                deps[req.name] = str(req.specifier) or "*"
                continue
            entry = tomlkit.inline_table()
            entry["version"] = str(req.specifier) or "*"
            if req.extras:
                entry["extras"] = sorted(req.extras)
            if req.marker:
                entry["markers"] = str(req.marker)
            deps[req.name] = entry
        return deps

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Manifest:
        env = data.get("env", {})
        pypi: dict[str, str] = {}
        for name, value in data.get("pypi-dependencies", {}).items():
            req = manifest_entry_to_requirement(name, value)
            pypi[canonical_name(req.name)] = str(req)
        conda = {
            name: conda_entry_to_spec(name, value)
            for name, value in data.get("dependencies", {}).items()
        }
        return cls(
            name=str(env.get("name", "")),
            kind=str(env.get("kind", "venv")),
            python=str(env.get("python", "")),
            base_python=str(env.get("base-python", "")),
            base_site=tuple(env.get("base-site-packages", ())),
            base_env=str(env.get("base-env", "")),
            base_revision=int(env.get("base-revision", -1)),
            pypi=pypi,
            conda=conda,
            channels=tuple(str(c) for c in env.get("channels", ())),
            kernels=env.get("kernels", True) is not False,
        )


def conda_entry_to_spec(name: str, value: Any) -> str:
    """The MatchSpec text of a ``[dependencies]`` entry (inverse of ``conda_table``)."""
    text = str(value).strip()
    if text in ("", "*"):
        return name
    if text.startswith(name) or "::" in text:
        return text
    return f"{name} {text}"


def manifest_entry_to_requirement(name: str, value: Any) -> Requirement:
    """Turn a ``[pypi-dependencies]`` entry (string or table) into a Requirement."""
    from packaging.requirements import Requirement

    if isinstance(value, str):
        spec = "" if value.strip() in ("", "*") else value.strip()
        return Requirement(f"{name}{spec}")
    version = str(value.get("version", "*")).strip()
    extras = value.get("extras") or []
    text = name + (f"[{','.join(extras)}]" if extras else "")
    text += "" if version in ("", "*") else version
    if value.get("markers"):
        text += f"; {value['markers']}"
    return Requirement(text)
