"""conda channels and MatchSpecs: what a user may write, validated before any solve.

A channel is a name (through the channel alias) or a URL; a spec is one of
conda's MatchSpec forms, parsed by rattler (lenient for conda's own forms,
strict for the rest), naming a package from the env's channels only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .errors import InvalidSpec

if TYPE_CHECKING:
    from rattler import MatchSpec

DEFAULT_CHANNEL_ALIAS = "https://conda.anaconda.org/"


def channel_url(channel: str, alias: str = DEFAULT_CHANNEL_ALIAS) -> str:
    """A channel name (``conda-forge``) through the alias, or a URL/path as it is."""
    from rattler import Channel, ChannelConfig

    text = channel.strip()
    if not text or any(c.isspace() for c in text):
        raise InvalidSpec(f"{channel!r} is not a channel name or URL")
    if text.startswith("/"):
        text = "file://" + text
    try:
        url = str(Channel(text, ChannelConfig(channel_alias=alias)).base_url)
    except Exception as exc:
        raise InvalidSpec(f"{channel!r} is not a channel name or URL: {exc}") from None
    return url.rstrip("/")


def parse_specs(texts: Iterable[str], alias: str = DEFAULT_CHANNEL_ALIAS) -> list[MatchSpec]:
    """conda MatchSpecs (``numpy>=1.20``, ``scipy=1.1``, ``conda-forge::pkg``, builds).

    A channel named in a spec (``testing::bar``) goes through ``alias`` like the
    env's own channels, so that it names the same URL the solver reads.
    """
    from rattler import MatchSpec

    out = []
    for text in texts:
        spec = text.strip()
        head, sep, rest = spec.partition("::")
        if sep and head and "://" not in head and not head.startswith("/"):
            spec = f"{channel_url(head, alias)}::{rest}"
        if not spec or spec.startswith("-"):
            raise InvalidSpec(f"{text!r} is not a package spec")
        bare = re.sub(r"\[.*\]$", "", spec.split("::")[-1])  # no channel, no [key=value]
        if "://" in bare or bare.endswith((".conda", ".tar.bz2")):
            raise InvalidSpec(
                f"{text!r}: packages come from the environment's channels; "
                "a URL or file cannot be installed directly"
            )
        # conda's own forms (``bar=1.0=0``, ``numpy 1.15 py36_0``) need the lenient
        # parser; what it accepts beyond them is refused with the strict one's reason.
        try:
            match = MatchSpec(spec)
            build = match.build
            if build is not None and not re.fullmatch(r"[A-Za-z0-9_.*+]+", str(build)):
                MatchSpec(spec, strict=True)
                raise ValueError(f"bad build string {build!r}")
        except Exception as exc:
            raise InvalidSpec(f"{text!r} is not a valid conda package spec: {exc}") from None
        if match.name is None:
            raise InvalidSpec(f"{text!r} is not a valid conda package spec: it names no package")
        name = match.name.normalized
        if not re.fullmatch(r"[a-z0-9_][a-z0-9_.+-]*", name):
            raise InvalidSpec(f"{text!r} is not a valid conda package spec: bad name {name!r}")
        out.append(match)
    return out


def validate_name(text: str) -> str:
    """A bare package name (for remove/update) in a conda env: conda's or PyPI's."""
    name = text.strip().lower()
    if not re.fullmatch(r"[a-z0-9_][a-z0-9_.+-]*", name):
        raise InvalidSpec(f"{text!r}: give a package name only, without version or build")
    return name


def spec_name(spec: MatchSpec) -> str:
    assert spec.name is not None
    return str(spec.name.normalized)


def spec_text(spec: MatchSpec) -> str:
    """The canonical text of a spec (what the manifest keeps)."""
    return str(spec)


def spec_channel(spec: MatchSpec) -> str | None:
    """The URL of a spec's ``channel::`` prefix."""
    channel = spec.channel
    if channel is None:
        return None
    # parse_specs has already put a channel *name* through the alias.
    return str(channel.base_url).rstrip("/")
