"""The registry of env kinds: the one place that maps a kind's name to its module.

A new kind is one module with a class following :class:`.base.EnvKind`, and
one line here.  Nothing outside the kinds' modules and this registry asks
which kind an env is; the pipeline and the front ends call the kind.
"""

from __future__ import annotations

from ..errors import InvalidRequest
from .base import EnvKind
from .conda import CondaKind
from .layer import LayerKind
from .venv import VenvKind

#: Kind name -> kind, in the order ``--kind`` lists them; the first is the default.
KINDS: dict[str, EnvKind] = {k.name: k for k in (LayerKind(), VenvKind(), CondaKind())}
DEFAULT_KIND = "layer"


def get(name: str) -> EnvKind:
    """The kind called ``name``, or InvalidRequest listing the kinds there are."""
    try:
        return KINDS[name]
    except KeyError:
        raise InvalidRequest(
            f"unknown environment kind {name!r}; use one of: {', '.join(KINDS)}"
        ) from None


def layer() -> LayerKind:
    """The kind of the ``default`` env (a layer over the server's interpreter)."""
    kind = KINDS[DEFAULT_KIND]
    assert isinstance(kind, LayerKind)
    return kind
