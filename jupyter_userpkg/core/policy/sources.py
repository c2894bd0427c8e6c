"""Where the administrator's policy comes from: places an ordinary user cannot change.

* a policy file, ``jupyter_userpkg_policy.json``, in the administrator's dirs
  (:func:`.admintrust.admin_dirs`: ``etc/jupyter`` of the Python environment
  jupyter-userpkg is installed in, found from the package's own files,
  ``/usr/local/etc/jupyter`` and ``/etc/jupyter``), never from a dir a
  caller's variable names (``XDG_*``, ``JUPYTER_*``) nor from ``sys.prefix``;
* the source settings (``UserPkg.default_index``, ``extra_index_urls``,
  ``find_links``, ``channel_alias``, ``default_channels``, ``audit_log``, and
  where shared envs live: ``shared_envs_dirs``, ``shared_kernels_dir``) an
  administrator wrote in ``jupyter_userpkg_config`` or ``jupyter_server_config``
  files in those dirs: these count as policy, so no user config replaces them;
* a remote policy whose URL an administrator's policy file names (``"url"``),
  fetched with httpx without the caller's proxy or certificate variables
  (``"url_proxy"`` names a proxy), at most every ``FRESH`` seconds by one
  process.  When it cannot be fetched, the last good copy this process holds
  in memory serves, else the copy at ``"url_copy"`` (a file only the
  administrator writes, refreshed by the administrator's own processes);
  with neither, the policy fails closed.

Every file read must pass :func:`.admintrust.untrusted_reason` (owned by root or
the account that installed this package, in dirs no one else can write);
one that does not fails the policy closed: nothing can be installed, removing
and reading go on, and ``policy`` and ``doctor`` say which file and why.
The policy files come first, then the administrator's settings, then the URLs'
policies (:func:`merge`: each source can only tighten the others).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import first_line
from .admintrust import Untrusted, admin_dirs, refusal, running_as_trusted, untrusted_reason
from .rules import POLICY_FILE, Policy, PolicyError, from_data, matches, normalize, parse_time

#: No longer read (a user can set or drop it); named in ``policy``'s notes when set.
OLD_URL_VAR = "JUPYTER_USERPKG_POLICY_URL"
#: Keys of an administrator's policy file that say where more policy comes from.
DELIVERY = ("url", "url_copy", "url_proxy")
#: Seconds a policy fetched from its URL is used before it is fetched again.
FRESH = 30.0

#: ``UserPkg`` settings an administrator's config file turns into policy.
ADMIN_SETTINGS = (
    "default_index",
    "extra_index_urls",
    "find_links",
    "channel_alias",
    "default_channels",
    "audit_log",
    "shared_envs_dirs",
    "shared_kernels_dir",
)


@dataclass(frozen=True)
class Loaded:
    """The effective policy, the administrator's settings and what the user should know."""

    policy: Policy
    #: ``UserPkg`` settings from the administrator's config files (name -> (value, origin)).
    settings: dict[str, tuple[Any, str]]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Remote:
    """A policy URL named in an administrator's file, and how to reach it."""

    url: str
    named_in: str
    copy: Path | None = None
    proxy: str | None = None


def load() -> Loaded:
    """Read every source.  One that cannot be read, or that someone other than the
    administrator could have written, fails closed: the policy then refuses every
    package, saying which file and why, and reading envs goes on."""
    notes = _old_variable_note()
    try:
        loaded = _load()
    except PolicyError as exc:
        # The administrator's source settings still hold (no user config replaces them).
        settings: dict[str, tuple[Any, str]] = {}
        with contextlib.suppress(PolicyError, Untrusted):
            settings = _settings(admin_dirs(), strict=False)
        policy = replace(_from_settings(settings), error=exc.message)
        return Loaded(policy, settings, (exc.message, *notes))
    return replace(loaded, notes=(*loaded.notes, *notes))


def _old_variable_note() -> tuple[str, ...]:
    if not os.environ.get(OLD_URL_VAR):
        return ()
    return (
        f"{OLD_URL_VAR} is not read (every user can set or drop it): an administrator "
        'names a policy URL with "url" in an administrator\'s jupyter_userpkg_policy.json',
    )


def _load() -> Loaded:
    notes: list[str] = []
    try:
        dirs = admin_dirs()
    except Untrusted as exc:
        raise PolicyError(str(exc)) from None
    files: list[Policy] = []
    remotes: list[Remote] = []
    for directory in dirs:
        path = directory / POLICY_FILE
        if path.is_file():
            data = _read_json(_checked(path), str(path))
            remote = _remote(data, str(path))
            if remote is not None:
                remotes.append(remote)
            files.append(from_data(data, str(path)))
    settings = _settings(dirs)
    fetched = [_from_url(r, notes) for r in remotes]
    admin = [*files, _from_settings(settings)]
    if any("channels" in p.origins for p in admin):
        # The channel names of the administrator's files resolve through their alias
        # or conda's default, never through one a remote policy sets.
        fetched = [_without(p, "channel_alias") for p in fetched]
    merged = merge([*admin, *fetched])
    return Loaded(_no_downloads_unless_all_say(merged, [*files, *fetched]), settings, tuple(notes))


def _checked(path: Path) -> Path:
    """``path``, if only the administrator could have written it; else fail closed."""
    reason = untrusted_reason(path)
    if reason is not None:
        raise PolicyError(refusal(path, reason))
    return path


def _remote(data: Any, origin: str) -> Remote | None:
    """The delivery keys of a policy file, taken out of it (they are not rules)."""
    if not isinstance(data, dict) or not any(k in data for k in DELIVERY):
        return None
    values = {k: data.pop(k) for k in DELIVERY if k in data}
    if not all(isinstance(v, str) and v.strip() for v in values.values()):
        raise PolicyError(f"policy {origin}: {', '.join(DELIVERY)} must be non-empty strings")
    if "url" not in values:
        raise PolicyError(f"policy {origin}: 'url_copy' and 'url_proxy' go with a 'url'")
    copy = values.get("url_copy")
    return Remote(
        values["url"].strip(), origin, Path(copy) if copy else None, values.get("url_proxy")
    )


def _without(policy: Policy, name: str) -> Policy:
    origins = {k: v for k, v in policy.origins.items() if k != name}
    return replace(policy, **{name: getattr(Policy(), name)}, origins=origins)


def _no_downloads_unless_all_say(merged: Policy, documents: list[Policy]) -> Policy:
    """A policy document that leaves ``python_downloads`` out says no (its default): managed
    Pythons only when every document allows them."""
    if merged.python_downloads and not all(d.python_downloads for d in documents):
        silent = [next(iter(d.origins.values()), "") for d in documents if not d.python_downloads]
        said = "; ".join(filter(None, silent))
        return replace(
            merged, python_downloads=False, origins={**merged.origins, "python_downloads": said}
        )
    return merged


def _read_json(path: Path, origin: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"policy {origin} cannot be read: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PolicyError(f"policy {origin} is not valid JSON: {exc}") from None


def _settings(dirs: list[Path], strict: bool = True) -> dict[str, tuple[Any, str]]:
    """The administrator's source settings, the most specific dir's first.  Not
    ``strict`` (the policy has failed closed already): files someone else could
    have written are passed over instead of refused."""
    settings: dict[str, tuple[Any, str]] = {}
    for directory in dirs:
        for name, value_origin in _admin_settings(directory, strict).items():
            settings.setdefault(name, value_origin)
    return settings


def _admin_settings(directory: Path, strict: bool) -> dict[str, tuple[Any, str]]:
    """The ``UserPkg`` source settings of the config files in one administrator's dir."""
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    found: dict[str, tuple[Any, str]] = {}
    for stem in ("jupyter_userpkg_config", "jupyter_server_config"):
        for ext, loader_cls in ((".json", JSONFileConfigLoader), (".py", PyFileConfigLoader)):
            path = directory / (stem + ext)
            if not path.is_file():
                continue
            reason = untrusted_reason(path)
            if reason is not None:  # never loaded (a .py file would run)
                if strict:
                    raise PolicyError(refusal(path, reason))
                continue
            loader: Any = loader_cls(path.name, path=str(directory))
            try:
                section = loader.load_config().get("UserPkg", {})
            except Exception as exc:  # a broken admin config: fail closed, saying where
                raise PolicyError(f"{path} cannot be read: {first_line(exc)}") from None
            for name in ADMIN_SETTINGS:
                if name in section and name not in found:
                    found[name] = (section[name], str(path))
    return found


def _from_settings(settings: dict[str, tuple[Any, str]]) -> Policy:
    """The administrator's source settings as the policy fields they amount to."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    if "default_index" in settings or "extra_index_urls" in settings:
        default, origin = settings.get("default_index", ("", ""))
        extra, extra_origin = settings.get("extra_index_urls", ((), ""))
        urls = [u for u in [default, *extra] if u]
        if urls:
            values["indexes"] = tuple(urls)
            origins["indexes"] = origin or extra_origin
    if settings.get("channel_alias", ("", ""))[0]:
        values["channel_alias"], origins["channel_alias"] = settings["channel_alias"]
    if "default_channels" in settings:
        channels, origins["channels"] = settings["default_channels"]
        values["channels"] = tuple(channels)
        values["allow_user_channels"] = True  # a default, not a restriction
        origins["allow_user_channels"] = origins["channels"]
    return replace(Policy(**values), origins=origins)


def _from_url(remote: Remote, notes: list[str]) -> Policy:
    url, label = remote.url, f"{remote.url} (named in {remote.named_in})"
    if url.startswith("file://") or "://" not in url:
        path = Path(url.removeprefix("file://"))
        return from_data(_read_json(_checked(path), label), url)
    if not url.startswith(("http://", "https://")):
        raise PolicyError(f"{label}: only http(s) and file URLs or paths can name a policy")
    fetched = _FETCHED.get(url)
    if fetched is not None and 0 <= time.monotonic() - fetched[0] < FRESH:
        return fetched[1]  # this process fetched it a moment ago
    import httpx

    try:
        # trust_env=False: no proxy, certificate or netrc setting of the caller's.
        response = httpx.get(
            url, timeout=10.0, follow_redirects=True, trust_env=False, proxy=remote.proxy
        )
    except (httpx.InvalidURL, ValueError) as exc:  # UnicodeError, IDNA: a host that is none
        raise PolicyError(f"{label}: not a URL a policy can be fetched from ({exc})") from None
    except httpx.HTTPError as exc:  # unreachable: the last good copy, with a note
        return _last_good(remote, first_line(exc), notes)
    if response.status_code >= 500 or response.status_code in (408, 429):
        # the server is there but failing or busy: as unreachable
        return _last_good(remote, f"HTTP {response.status_code}", notes)
    if response.status_code != 200:  # it answered: there is no policy there (fail closed)
        raise PolicyError(
            f"the administrator's policy at {url} answers HTTP {response.status_code}; "
            "ask the administrator to fix the policy URL"
        )
    try:
        data = response.json()
    except ValueError as exc:
        raise PolicyError(f"policy {url} is not valid JSON: {exc}") from None
    policy = from_data(data, url)  # validated before it replaces the last good copy
    _FETCHED[url] = (time.monotonic(), policy)
    if remote.copy is not None and running_as_trusted():
        _keep_copy(remote.copy, data, notes)
    return policy


#: URL -> (when, policy) this process fetched last: the fresh copy within ``FRESH``
#: seconds, the last good one (at any age) when the URL cannot be reached.
_FETCHED: dict[str, tuple[float, Policy]] = {}


def _keep_copy(copy: Path, data: Any, notes: list[str]) -> None:
    """The administrator's own process refreshes the copy users' processes fall back on:
    only into a dir no one else can write (never through a link someone planted), made
    readable by all before it takes the copy's name."""
    import tempfile

    reason = untrusted_reason(copy.parent)
    if reason is not None:
        notes.append(f"the policy's copy {copy} is not written: {reason}")
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=copy.parent, prefix=".policy-")
        try:
            os.fchmod(fd, 0o644)
            os.write(fd, json.dumps(data).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, copy)
    except OSError as exc:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp)
        notes.append(f"the policy's copy {copy} cannot be written ({exc.strerror or exc})")


def _last_good(remote: Remote, why: str, notes: list[str]) -> Policy:
    url = remote.url
    held = _FETCHED.get(url)
    if held is not None:
        notes.append(
            f"the policy at {url} cannot be fetched ({why}); using the copy fetched earlier"
        )
        return held[1]
    if remote.copy is not None and remote.copy.is_file():
        notes.append(f"the policy at {url} cannot be fetched ({why}); using {remote.copy}")
        return from_data(_read_json(_checked(remote.copy), str(remote.copy)), url)
    raise PolicyError(
        f"the administrator's policy at {url} cannot be fetched ({why}) and no copy of it "
        "is kept here; try again when the network is back"
    )


def describe_sources() -> list[str]:
    """Where a policy is looked for, for ``policy`` to say (found or not)."""
    try:
        dirs = admin_dirs()
    except Untrusted as exc:
        return [str(exc)]
    places = [str(d / POLICY_FILE) for d in dirs]
    for directory in dirs:
        path = directory / POLICY_FILE
        with contextlib.suppress(PolicyError, OSError):
            if path.is_file() and untrusted_reason(path) is None:
                data = _read_json(path, str(path))
                if isinstance(data, dict) and isinstance(data.get("url"), str):
                    places.append(f"{data['url']} (named in {path})")
    return places


# ------------------------------------------------------------------ merging

_FIRST_WINS = ("indexes", "channels", "channel_alias", "search_index", "mirror_request_help")
#: What an allow-list is when the sources' lists have nothing in common: it allows nothing.
NOTHING = "(none)"


def merge(policies: Iterable[Policy]) -> Policy:
    """Combine sources, most authoritative first: each can only tighten the others.

    Allow-lists meet (a name must be allowed by every source that lists; an empty list
    lists nothing); whether users may add channels is judged per source with its own
    default (a source that curates channels and says nothing refuses them); a licence
    exception holds only if every source with a licence rule makes it.
    """
    sources = list(policies)
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}

    def take(name: str, value: Any, origin: str) -> None:
        origins[name] = f"{origins[name]}; {origin}" if name in origins else origin
        values[name] = value

    for p in sources:
        for name in p.origins:
            if name in ("allow_user_channels", "license_exceptions"):
                continue  # judged across the sources below
            theirs = getattr(p, name)
            if name in ("allowed_packages", "allowed_licenses") and not theirs:
                continue  # an empty allow-list restricts nothing
            if name in values:
                mine = values[name]
                if name in _FIRST_WINS:
                    continue
                if name in ("pypi", "python_downloads"):
                    theirs = mine and theirs
                elif name == "mirror":
                    theirs = mine or theirs
                elif name == "allowed_packages":
                    theirs = meet(mine, theirs)
                elif name == "allowed_licenses":
                    wanted = {v.lower() for v in theirs}
                    theirs = tuple(v for v in mine if v.lower() in wanted) or (NOTHING,)
                elif name == "max_envs":
                    theirs = min(mine, theirs)
                elif name == "snapshot":
                    theirs = min(mine, theirs, key=parse_time)
                else:  # blocks and package lists add up
                    theirs = tuple(dict.fromkeys((*mine, *theirs)))
            take(name, theirs, p.origins[name])
    channels = [p for p in sources if {"channels", "allow_user_channels"} & set(p.origins)]
    for p in channels:
        said = p.origins.get("allow_user_channels") or p.origins["channels"]
        take(
            "allow_user_channels", values.get("allow_user_channels", True) and p.user_channels, said
        )
    rules = [p for p in sources if p.allowed_licenses and "allowed_licenses" in p.origins]
    if rules and all(p.license_exceptions for p in rules):
        exceptions = rules[0].license_exceptions
        for p in rules[1:]:
            exceptions = meet(exceptions, p.license_exceptions)
        for p in rules:
            origins["license_exceptions"] = "; ".join(
                filter(None, [origins.get("license_exceptions"), p.origins["license_exceptions"]])
            )
        values["license_exceptions"] = exceptions
    return Policy(**values, origins=origins)


def _glob(text: str) -> bool:
    return "*" in text or "?" in text or "&" in text


def meet(mine: tuple[str, ...], theirs: tuple[str, ...]) -> tuple[str, ...]:
    """The names two lists of patterns both match, as patterns: a name one list holds and
    the other matches; two different globs as one pattern both must match (``a*&*b``);
    ``NOTHING`` when they share no name."""
    out: list[str] = []
    for a in mine:
        for b in theirs:
            if normalize(a) == normalize(b):
                out.append(a)
            elif not _glob(a):
                if matches(b, normalize(a)):
                    out.append(a)
            elif not _glob(b):
                if matches(a, normalize(b)):
                    out.append(b)
            else:
                out.append(f"{a}&{b}")
    return tuple(dict.fromkeys(out)) or (NOTHING,)
