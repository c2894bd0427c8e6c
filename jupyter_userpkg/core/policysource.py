"""Where the administrator's policy comes from: places an ordinary user cannot change.

* a policy file, ``jupyter_userpkg_policy.json``, in the environment and system
  Jupyter config dirs (``etc/jupyter`` of the Python environment jupyter-userpkg
  is installed in, ``/usr/local/etc/jupyter``, ``/etc/jupyter``), read
  explicitly: never from the user's config dir, never from ``JUPYTER_CONFIG_DIR``
  or ``JUPYTER_CONFIG_PATH`` (which the user sets), never from the prefix of a
  user's own env (a kernel of a layer env runs with the layer as ``sys.prefix``),
  and whatever order jupyter_core would give them;
* the source settings (``UserPkg.default_index``, ``extra_index_urls``,
  ``find_links``, ``channel_alias``, ``default_channels``, ``audit_log``) an
  administrator wrote in ``jupyter_userpkg_config`` or ``jupyter_server_config``
  files in those dirs: these count as policy, so no user config replaces them;
* a policy named by ``JUPYTER_USERPKG_POLICY_URL``, which a spawner sets: an
  http(s) URL (fetched with httpx at most every ``FRESH`` seconds by one process;
  when it cannot be fetched, the last good copy kept on disk is used, with a
  note), a ``file://`` URL or a path.

The policy files come first, then the administrator's settings, then the URL's
policy (:func:`merge`: each source can only tighten the others, and the
source settings are taken from the first that sets them).  So a URL, which a
user can also set in their own shell, never replaces what the administrator's
files say; and the copy of it kept in the user's cache, which the user can
write, is read only when the URL cannot be fetched.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import first_line
from .policy import POLICY_FILE, Policy, PolicyError, from_data, matches, normalize, parse_time

POLICY_URL_VAR = "JUPYTER_USERPKG_POLICY_URL"
#: The file by which a layer env sees its base's packages (written by the layer kind).
LAYER_PTH = "_userpkg_base.pth"
#: Seconds a policy fetched from its URL is used before it is fetched again.
FRESH = 30.0

#: System config dirs read always (jupyter_core's own list depends on the caller's env).
SYSTEM_DIRS = ("/usr/local/etc/jupyter", "/etc/jupyter")

#: ``UserPkg`` settings an administrator's config file turns into policy.
ADMIN_SETTINGS = (
    "default_index",
    "extra_index_urls",
    "find_links",
    "channel_alias",
    "default_channels",
    "audit_log",
)


def admin_dirs() -> list[Path]:
    """The environment and system Jupyter config dirs, most specific first.

    The environment dir is that of the Python environment this package is
    installed in (the server's), not ``sys.prefix``: in a kernel of a layer env,
    ``sys.prefix`` is the user's own env, whose ``etc/jupyter`` the user writes.
    """
    from jupyter_core import paths

    env = list(paths.ENV_CONFIG_PATH)
    if _in_layer():  # the user's own env: the server env's dir instead, or none
        mine = str(Path(sys.prefix) / "etc" / "jupyter")
        installed = install_prefix()
        server = [str(installed / "etc" / "jupyter")] if installed is not None else []
        env = [e for d in env for e in (server if d == mine else [d])]
    # SYSTEM_CONFIG_PATH follows the caller's JUPYTER_PLATFORM_DIRS / XDG_CONFIG_DIRS:
    # the usual system dirs are read whatever those say.
    dirs = [*env, *paths.SYSTEM_CONFIG_PATH, *SYSTEM_DIRS]
    return [Path(d) for d in dict.fromkeys(dirs)]


def _in_layer() -> bool:
    """Is this interpreter a layer env's (one that sees the base's packages through
    the layer's ``.pth`` file)?"""
    own = [e for e in sys.path if e.startswith(sys.prefix) and e.endswith("site-packages")]
    return any(os.path.isfile(os.path.join(e, LAYER_PTH)) for e in own)


def install_prefix() -> Path | None:
    """The prefix of the Python environment whose site-packages holds this package's
    distribution (an editable install's too), or None when none is found."""
    for entry in sys.path:
        site = Path(entry)
        if site.name not in ("site-packages", "dist-packages"):
            continue
        try:
            found = any(site.glob("jupyter_userpkg-*.dist-info"))
        except OSError:
            continue
        if found:
            lib = site.parent.parent  # <prefix>/lib/pythonX.Y/site-packages
            return lib.parent if lib.name in ("lib", "lib64") else None
    return None


@dataclass(frozen=True)
class Loaded:
    """The effective policy, the administrator's settings and what the user should know."""

    policy: Policy
    #: ``UserPkg`` settings from the administrator's config files (name -> (value, origin)).
    settings: dict[str, tuple[Any, str]]
    notes: tuple[str, ...] = ()


def load(cache_dir: Path | None = None) -> Loaded:
    """Read every source.  One that cannot be read fails closed: the policy then refuses
    every package, saying which file and why, and reading envs goes on."""
    try:
        return _load(cache_dir)
    except PolicyError as exc:
        # The administrator's source settings still hold (no user config replaces them).
        settings: dict[str, tuple[Any, str]] = {}
        with contextlib.suppress(PolicyError):
            settings = _settings(admin_dirs())
        policy = replace(_from_settings(settings), error=exc.message)
        return Loaded(policy, settings, (exc.message,))


def _load(cache_dir: Path | None) -> Loaded:
    notes: list[str] = []
    dirs = admin_dirs()
    files = [
        from_data(_read_json(d / POLICY_FILE, str(d / POLICY_FILE)), str(d / POLICY_FILE))
        for d in dirs
        if (d / POLICY_FILE).is_file()
    ]
    settings = _settings(dirs)
    url = os.environ.get(POLICY_URL_VAR, "").strip()
    fetched = [_from_url(url, cache_dir, notes)] if url else []
    admin = [*files, _from_settings(settings)]
    if any("channels" in p.origins for p in admin):
        # The administrator's channel names resolve through their alias or conda's
        # default, never one from the URL (which a user can set in their own shell).
        fetched = [_without(p, "channel_alias") for p in fetched]
    merged = merge([*admin, *fetched])
    return Loaded(_no_downloads_unless_all_say(merged, [*files, *fetched]), settings, tuple(notes))


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


def _settings(dirs: list[Path]) -> dict[str, tuple[Any, str]]:
    """The administrator's source settings, the most specific dir's first."""
    settings: dict[str, tuple[Any, str]] = {}
    for directory in dirs:
        for name, value_origin in _admin_settings(directory).items():
            settings.setdefault(name, value_origin)
    return settings


def _admin_settings(directory: Path) -> dict[str, tuple[Any, str]]:
    """The ``UserPkg`` source settings of the config files in one administrator's dir."""
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    found: dict[str, tuple[Any, str]] = {}
    for stem in ("jupyter_userpkg_config", "jupyter_server_config"):
        for ext, loader_cls in ((".json", JSONFileConfigLoader), (".py", PyFileConfigLoader)):
            path = directory / (stem + ext)
            if not path.is_file():
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


def _from_url(url: str, cache_dir: Path | None, notes: list[str]) -> Policy:
    label = f"{POLICY_URL_VAR}={url}"
    if url.startswith("file://") or "://" not in url:
        path = Path(url.removeprefix("file://"))
        return from_data(_read_json(path, label), url)
    if not url.startswith(("http://", "https://")):
        raise PolicyError(f"{label}: only http(s) and file URLs or paths can name a policy")
    cache = _cache_file(url, cache_dir)
    fetched = _FETCHED.get(url)
    if fetched is not None and 0 <= time.monotonic() - fetched[0] < FRESH:
        return fetched[1]  # this process fetched it a moment ago
    import httpx

    try:
        response = httpx.get(url, timeout=10.0, follow_redirects=True)
    except (httpx.InvalidURL, ValueError) as exc:  # UnicodeError, IDNA: a host that is none
        raise PolicyError(f"{label}: not a URL a policy can be fetched from ({exc})") from None
    except httpx.HTTPError as exc:  # unreachable: the last good copy, with a note
        return _last_good(url, cache, first_line(exc), notes)
    if response.status_code >= 500 or response.status_code in (408, 429):
        # the server is there but failing or busy: as unreachable
        return _last_good(url, cache, f"HTTP {response.status_code}", notes)
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
    from .store import atomic_write

    try:
        cache.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(cache, json.dumps(data))
    except OSError as exc:
        notes.append(
            f"the policy fetched from {url} cannot be kept at {cache} ({exc.strerror or exc}); "
            "it is used, but no copy serves when the URL cannot be reached"
        )
    _FETCHED[url] = (time.monotonic(), policy)
    return policy


#: URL -> (when, policy) fetched by this process: kept in memory, not on disk, so a
#: copy the user edited in their cache is never taken for a fresh one.
_FETCHED: dict[str, tuple[float, Policy]] = {}


def _last_good(url: str, cache: Path, why: str, notes: list[str]) -> Policy:
    if not cache.is_file():
        raise PolicyError(
            f"the administrator's policy at {url} cannot be fetched ({why}) and no copy "
            "of it is kept here; try again when the network is back"
        )
    notes.append(f"the policy at {url} cannot be fetched ({why}); using the copy kept here")
    return from_data(_read_json(cache, url), url)


def _cache_file(url: str, cache_dir: Path | None) -> Path:
    import hashlib  # only with a policy URL: not on every command's way

    root = cache_dir or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return root / "jupyter-userpkg" / "policy" / f"{digest}.json"


def describe_sources() -> list[str]:
    """Where a policy is looked for, for ``policy`` to say (found or not)."""
    places = [str(d / POLICY_FILE) for d in admin_dirs()]
    url = os.environ.get(POLICY_URL_VAR)
    return places + ([f"{POLICY_URL_VAR}={url}"] if url else [])


# ------------------------------------------------------------------ merging

_FIRST_WINS = ("indexes", "channels", "channel_alias")
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
