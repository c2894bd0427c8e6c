"""The registry of env kinds: the one place that maps a kind's name to its module.

A new kind is one module with a class following :class:`.base.EnvKind`, and
one line in :data:`KINDS`.  Nothing outside the kinds' modules and this
registry asks which kind an env is; the pipeline and the front ends call the
kind.  A kind's module is imported when it is first asked for, so a change to
a conda env never loads the PyPI kinds' code, nor the reverse.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ..errors import EnvDamaged, InvalidRequest

if TYPE_CHECKING:
    from ..exports import Imported
    from ..manifest import Manifest
    from .base import EnvKind
    from .layer import LayerKind

#: Kind name -> (module, class), in the order ``--kind`` lists them.
KINDS: dict[str, tuple[str, str]] = {
    "layer": ("layer", "LayerKind"),
    "venv": ("venv", "VenvKind"),
    "conda": ("conda", "CondaKind"),
}
#: The kind of an env created without ``--kind``, and of ``default``.
DEFAULT_KIND = "layer"

_loaded: dict[str, EnvKind] = {}


def get(name: str) -> EnvKind:
    """The kind called ``name``, or InvalidRequest listing the kinds there are."""
    kind = _loaded.get(name)
    if kind is not None:
        return kind
    try:
        module, cls = KINDS[name]
    except KeyError:
        raise InvalidRequest(
            f"unknown environment kind {name!r}; use one of: {', '.join(KINDS)}"
        ) from None
    made: EnvKind = getattr(importlib.import_module(f".{module}", __name__), cls)()
    _loaded[name] = made
    return made


def of(manifest: Manifest) -> EnvKind:
    """The kind an env's manifest names; an unknown one means the manifest is damaged."""
    if manifest.kind not in KINDS:
        raise EnvDamaged(
            f"environment {manifest.name!r} names an unknown kind {manifest.kind!r} in its "
            f"manifest; see `jupyter userpkg doctor -n {manifest.name}`"
        )
    return get(manifest.kind)


def for_import(imported: Imported | None) -> str:
    """The kind a ``create --from`` file asks for when none is given: the one it names,
    else the first that takes channels when it asks for conda packages, else the default."""
    if imported is not None and imported.kind:
        return imported.kind
    if imported is not None and imported.needs_channels:
        return next(name for name in KINDS if get(name).channels)
    return DEFAULT_KIND


def describe() -> list[dict[str, object]]:
    """Each kind and what it can do (``kinds``, ``GET kinds``): front ends build their
    create forms and actions from this, never from a kind's name."""
    out: list[dict[str, object]] = []
    for name in KINDS:
        kind = get(name)
        out.append(
            {
                "name": name,
                "summary": kind.summary,
                "default": name == DEFAULT_KIND,
                "base": kind.extends_base,
                "channels": kind.channels,
                "python_version": kind.python_version,
                "pypi": kind.pypi,
                "exports": list(kind.exports),
            }
        )
    return out


def default_kind() -> LayerKind:
    """The kind of the ``default`` env (a layer over the server's interpreter)."""
    from .layer import LayerKind

    kind = get(DEFAULT_KIND)
    assert isinstance(kind, LayerKind)
    return kind
