"""conda channels and MatchSpecs: what a user may write, validated before any solve.

A channel is a name (through the channel alias), one of conda's own names
(``defaults``, ``pkgs/main``, ``pkgs/r``, ``pkgs/msys2``) or a URL; a spec is
one of conda's MatchSpec forms, naming a package from the env's channels (or
from a channel it names).

rattler parses the forms it knows; conda's forms it does not take are read
here first: bracket keys separated by spaces, ``name`` inside brackets, a
channel with a subdir (``conda-forge/linux-64::bar``), ``*`` and multichannels
as the channel, ``[subdir=...]`` and regex versions (``^1\\.2.*$``).  What
rattler's solver does not honour by itself (a subdir, a multichannel, a regex)
becomes a :class:`Restriction`: the solver then sees only the records that
meet it (:func:`condabackend.solve`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InvalidSpec
from ..options import DEFAULT_CHANNEL_ALIAS

if TYPE_CHECKING:
    from rattler import MatchSpec

#: conda's names for the channels of Anaconda's repository: not under the channel alias.
ANACONDA_CHANNELS = {
    name: f"https://repo.anaconda.com/{name}" for name in ("pkgs/main", "pkgs/r", "pkgs/msys2")
}
#: conda's multichannels: one name for several channels (``defaults`` on Linux and macOS).
MULTICHANNELS = {"defaults": ("pkgs/main", "pkgs/r")}
#: A channel's last path part that names a subdir (``conda-forge/linux-64``).
_SUBDIR_RE = re.compile(
    r"noarch|[a-z0-9]+-(?:64|32|aarch64|arm64|armv6l|armv7l|ppc64le|ppc64|s390x|riscv64|riscv32|wasm32|z)"
)
_NAME_RE = re.compile(r"[a-z0-9_][a-z0-9_.+-]*")
#: What a version term with an operator starts with (conda's operators).
_OPERATOR_START = ("=", "<", ">", "!", "~")
#: conda's bracket syntax: ``key=value`` or ``key='value'``, separated by commas or spaces.
_BRACKET_RE = re.compile(r"""\s*([a-zA-Z0-9_-]+?)\s*=\s*(["']?)([^'"]*?)\2\s*(?:[,\s]|$)""")
_REFUSED_PARENS = (
    "conda's '(optional)' and '(target=...)' mark dependencies inside package metadata; "
    "a request installs what it names, so they are not accepted"
)


@dataclass(frozen=True)
class Restriction:
    """What a spec asks of its package's records beyond what rattler's solver checks."""

    name: str
    #: URLs of the channels the package may come from; empty: the env's.
    channels: tuple[str, ...] = ()
    subdir: str | None = None
    version_regex: str | None = None

    def admits(self, record: Any) -> bool:
        if self.channels and str(record.channel).rstrip("/") not in self.channels:
            return False
        if self.subdir is not None and record.subdir != self.subdir:
            return False
        return self.version_regex is None or bool(re.match(self.version_regex, str(record.version)))

    def text(self) -> str:
        """``bar (subdir linux-64, a version matching ^1.*$)``: what no record met."""
        what = []
        if self.subdir:
            what.append(f"subdir {self.subdir}")
        if self.version_regex:
            what.append(f"a version matching {self.version_regex}")
        return self.name + (f" ({', '.join(what)})" if what else "")


@dataclass(frozen=True)
class _Extra:
    text: str
    restriction: Restriction | None


def channel_urls(channel: str, alias: str = DEFAULT_CHANNEL_ALIAS) -> list[str]:
    """The URLs a channel stands for: several for a multichannel (``defaults``)."""
    text = channel.strip()
    if text in MULTICHANNELS:
        return [ANACONDA_CHANNELS[name] for name in MULTICHANNELS[text]]
    return [channel_url(text, alias)]


def channel_url(channel: str, alias: str = DEFAULT_CHANNEL_ALIAS) -> str:
    """A channel name (``conda-forge``) through the alias, or a URL/path as it is."""
    from rattler import Channel, ChannelConfig

    text = channel.strip()
    if not text or any(c.isspace() for c in text):
        raise InvalidSpec(f"{channel!r} is not a channel name or URL")
    if text in ANACONDA_CHANNELS:
        return ANACONDA_CHANNELS[text]
    if text in MULTICHANNELS:
        raise InvalidSpec(
            f"{text!r} names several channels ({', '.join(MULTICHANNELS[text])}); give them "
            "one by one"
        )
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
    return [_parse(text, alias) for text in texts]


def _parse(text: str, alias: str) -> MatchSpec:
    from rattler import MatchSpec

    spec = text.strip()
    if not spec or spec.startswith("-"):
        raise InvalidSpec(f"{text!r} is not a package spec")

    def bad(reason: str) -> InvalidSpec:
        return InvalidSpec(f"{text!r} is not a valid conda package spec: {reason}")

    head, sep, body = spec.rpartition("::") if "::" in spec else ("", "", spec)
    if sep and not head:
        raise bad("nothing before '::'")
    bare = re.sub(r"\[.*\]$", "", body)  # no channel, no [key=value]
    if "://" in bare or bare.endswith((".conda", ".tar.bz2")):
        raise InvalidSpec(
            f"{text!r}: packages come from the environment's channels; "
            "a URL or file cannot be installed directly"
        )
    parens = re.search(r"\(([^()]*)\)\s*$", body)
    if parens and re.search(r"\b(optional|target)\b", parens.group(1)):
        raise InvalidSpec(f"{text!r}: {_REFUSED_PARENS}")
    body, keys = _brackets(body, bad)
    parts = re.match(r"([^\s=<>!~^]*)\s*(.*)$", body)
    assert parts is not None  # the pattern matches every string
    name, rest = parts.group(1), parts.group(2).strip()
    # conda reads ``>=1.0 , < 2.0 =py34_0`` as version ``>=1.0,<2.0``, build ``py34_0``.
    rest = re.sub(r"(?<=[^\s=<>!~,|])\s+=([^\s=<>!~,|]+)$", r" \1", rest)
    inner_name = keys.pop("name", None)
    if inner_name is not None:
        if name not in ("", "*") and name.lower() != inner_name.lower():
            raise bad(f"it names {name!r} and, in brackets, {inner_name!r}")
        name = inner_name
    if not name or name == "*":
        raise bad("it names no package")
    rest, regex = _version_regex(rest, keys, bad)
    channel, urls, subdir = _where(head, keys, alias, bad)
    # What rattler parses: name, version, build and the keys it knows.
    inner_text = ", ".join(f'{k}="{v}"' for k, v in keys.items())
    solver_text = f"{name} {rest}".strip() + (f"[{inner_text}]" if inner_text else "")
    plain_channel = len(urls) == 1 and subdir is None and regex is None
    if plain_channel:
        solver_text = f"{urls[0]}::{solver_text}"
    try:
        match = MatchSpec(solver_text)
        build = match.build
        if build is not None and not re.fullmatch(r"[A-Za-z0-9_.*+]+", str(build)):
            MatchSpec(solver_text, strict=True)
            raise ValueError(f"bad build string {build!r}")
    except Exception as exc:
        raise bad(str(exc)) from None
    if match.name is None:
        raise bad("it names no package")
    normalized = str(match.name.normalized)
    if not _NAME_RE.fullmatch(normalized) or re.search(r"[.-]{2}", normalized):
        raise bad(f"bad name {normalized!r}")
    restriction = None
    canonical = str(match)
    if not plain_channel and (urls or subdir or regex):
        restriction = Restriction(normalized, urls, subdir, regex)
        extra = [f'subdir="{subdir}"'] * bool(subdir) + [f'version="{regex}"'] * bool(regex)
        canonical = _with_keys(canonical, extra)
        if urls:
            where = channel if channel in MULTICHANNELS else urls[0]
            canonical = f"{where}::{canonical}"
    setattr(match, "_userpkg", _Extra(canonical, restriction))  # noqa: B010
    return match


def _brackets(body: str, bad: Callable[[str], InvalidSpec]) -> tuple[str, dict[str, str]]:
    """``body`` without its ``[key=value ...]`` part, and those keys (conda separates
    them by commas or spaces)."""
    keys: dict[str, str] = {}
    brackets = re.search(r"\[(.*)\]$", body)
    if not brackets:
        return body.strip(), keys
    inner, pos = brackets.group(1), 0
    for item in _BRACKET_RE.finditer(inner):
        if item.start() != pos or not item.group(3):
            break
        key = item.group(1)
        if key in keys:
            raise bad(f"the key {key!r} is given twice in the brackets")
        keys[key] = item.group(3)
        pos = item.end()
    if pos != len(inner):
        raise bad(f"cannot read the brackets [{inner}]")
    return body[: brackets.start()].strip(), keys


def _version_regex(
    rest: str, keys: dict[str, str], bad: Callable[[str], InvalidSpec]
) -> tuple[str, str | None]:
    r"""Take out of the version (after the name, or in brackets) what rattler cannot
    read: a regex (conda's ``^...$``) and globs with a ``*`` inside (``*.7.*``, which
    conda matches as the regex ``^(?:.*\.7\..*)$``); the rest of the version, and the
    regex its records must also match (None: no such part)."""
    regex = None
    version = keys.get("version", "")
    if version.startswith("^") or version.endswith("$"):
        regex = keys.pop("version")
    elif rest.startswith("^"):
        regex, _, rest = rest.partition(" ")
        rest = rest.strip()
    if regex is not None:
        if not (regex.startswith("^") and regex.endswith("$")):
            raise bad("a regex version must start with '^' and end with '$'")
        try:
            re.compile(regex)
        except re.error as exc:
            raise bad(f"bad regex {regex!r}: {exc}") from None
        return rest, regex
    if "version" in keys:
        keys["version"], regex = _split_globs(keys["version"])
        if not keys["version"]:
            del keys["version"]
        return rest, regex
    words = re.sub(r"\s*([,|])\s*", r"\1", rest).split()
    if not words:
        return rest, None
    plain, regex = _split_globs(words[0])
    if regex is None:
        return rest, None
    return " ".join([plain or "*", *words[1:]]), regex


def _split_globs(version: str) -> tuple[str, str | None]:
    """An "and" list of versions (``>=1,*.7.*``) parted into what rattler reads and one
    regex for the globs with an inner ``*``, which conda matches as regexes and rattler
    does not take.  A list with ``|`` or parentheses is left whole (to rattler)."""
    terms = version.split(",")
    if "|" in version or "(" in version:
        return version, None
    globs = [t for t in terms if t and t[0] not in _OPERATOR_START and "*" in t.rstrip("*")]
    if not globs:
        return version, None
    plain = ",".join(t for t in terms if t not in globs)
    patterns = [re.escape(g).replace(r"\*", ".*") for g in globs]
    if len(patterns) == 1:
        return plain, f"^(?:{patterns[0]})$"
    ahead = "".join(f"(?=(?:{p})$)" for p in patterns[:-1])
    return plain, f"^{ahead}(?:{patterns[-1]})$"


def _where(
    head: str, keys: dict[str, str], alias: str, bad: Callable[[str], InvalidSpec]
) -> tuple[str, tuple[str, ...], str | None]:
    """The channel a spec names (before ``::`` or in brackets), its URLs (none: the
    env's) and the subdir.  ``*`` is any channel, also with a subdir: conda reads
    ``*/win-32::numpy`` as ``numpy[subdir=win-32]``."""
    channel = keys.pop("channel", None)
    if head and channel is not None and head != channel:
        raise bad(f"it names two channels, {head!r} and {channel!r}")
    channel = channel or head or None
    subdir = keys.pop("subdir", None)
    urls: tuple[str, ...] = ()
    if channel:
        first, slash, last = channel.rstrip("/").rpartition("/")
        if slash and first and _SUBDIR_RE.fullmatch(last) and not first.endswith(":/"):
            if subdir is not None and subdir != last:
                raise bad(f"it names two subdirs, {last!r} and {subdir!r}")
            channel, subdir = first, last
    if channel and channel != "*":
        if "://" in channel or channel.startswith("/"):
            urls = (channel_url(channel, alias),)
        else:
            urls = tuple(channel_urls(channel, alias))
    if subdir is not None and not _SUBDIR_RE.fullmatch(subdir):
        raise bad(f"{subdir!r} is not a subdir (such as linux-64 or noarch)")
    return channel or "", urls, subdir


def _with_keys(text: str, keys: list[str]) -> str:
    """``text`` (rattler's form of a spec) with more ``key="value"`` bracket entries."""
    if not keys:
        return text
    if text.endswith("]"):
        return f"{text[:-1]}, {', '.join(keys)}]"
    return f"{text}[{', '.join(keys)}]"


def validate_name(text: str) -> str:
    """A bare package name (for remove/update) in a conda env: conda's or PyPI's."""
    name = text.strip().lower()
    if not _NAME_RE.fullmatch(name) or re.search(r"[.-]{2}", name):
        raise InvalidSpec(f"{text!r}: give a package name only, without version or build")
    return name


def spec_name(spec: MatchSpec) -> str:
    assert spec.name is not None
    return str(spec.name.normalized)


def spec_text(spec: MatchSpec) -> str:
    """The canonical text of a spec (what the manifest keeps)."""
    extra = getattr(spec, "_userpkg", None)
    return extra.text if isinstance(extra, _Extra) else str(spec)


def spec_restriction(spec: MatchSpec) -> Restriction | None:
    """What the solver must be held to beyond the MatchSpec (subdir, channels, regex)."""
    extra = getattr(spec, "_userpkg", None)
    return extra.restriction if isinstance(extra, _Extra) else None


def spec_channel(spec: MatchSpec) -> str | None:
    """The URL of a spec's ``channel::`` prefix."""
    channel = spec.channel
    if channel is None:
        return None
    # parse_specs has already put a channel *name* through the alias.
    return str(channel.base_url).rstrip("/")


def named_channels(texts: Iterable[str]) -> list[str]:
    """Channels named in specs (``chan::pkg``); ``*`` (also ``*/linux-64``, a subdir of
    any channel) is any of the env's, not one."""
    return [c for t in texts if "::" in t and not _any_channel(c := t.split("::", 1)[0].strip())]


def _any_channel(channel: str) -> bool:
    head, _, subdir = channel.rstrip("/").partition("/")
    return head == "*" and (not subdir or bool(_SUBDIR_RE.fullmatch(subdir)))
