"""The PyPI side of ``search`` and ``info``: an index's project list and package details.

PyPI has no search API, so the index's whole project list (PEP 691 JSON, or
the PEP 503 HTML page that simple mirrors serve) is kept in one file under the
user's cache dir, refreshed after ``SearchOptions.list_ttl`` with a conditional
request, and matched in memory (:mod:`.namematch`); the parsed list stays in
the process once read.  A package's details come from the index's JSON API
(PyPI's ``/pypi/<name>/json``), or, for an index without one, from its PEP 691
project page (versions from the files, requires-python), and are cached one
small file per package for ``SearchOptions.info_ttl``.

When the index cannot be reached, what is cached serves, whatever its age, and
the caller is told so (a note); with nothing cached, the error says what to do.
httpx is imported on first use: no other verb pays for it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import BackendUnavailable, InvalidSpec, PackageNotFound, first_line
from ..files import atomic_write
from ..namematch import NameIndex
from ..options import SearchOptions, UvOptions, private_dir
from ..searchrecords import PackageInfo
from ..specs import canonical_name
from . import pages as pypipages

if TYPE_CHECKING:
    import httpx

#: PyPI's simple index: what an unset ``UserPkg.default_index`` means.
PYPI_SIMPLE = "https://pypi.org/simple"
#: A project name as PEP 508 allows it (checked before a name goes into a URL).
NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
#: One project list fetch at a time in a process (the server calls from many threads).
_lock = threading.Lock()
_client_lock = threading.Lock()
_lists: dict[str, tuple[str, NameIndex]] = {}
_client: httpx.Client | None = None


def index_url(uv: UvOptions) -> str:
    """The index search reads: the configured default index, else PyPI."""
    return (uv.default_index or PYPI_SIMPLE).rstrip("/")


def index_label(url: str) -> str:
    """How messages name an index: ``PyPI`` for PyPI itself, else its URL."""
    return "PyPI" if url == PYPI_SIMPLE else url


def validate_name(text: str) -> str:
    """A project name's normalised form, or InvalidSpec before it reaches any URL."""
    name = text.strip()
    if not NAME_RE.fullmatch(name):
        raise InvalidSpec(
            f"{text!r} is not a valid package name: a name is letters, digits, '.', '_' and "
            "'-', starting and ending with a letter or digit (no version or extras)"
        )
    return canonical_name(name)


def client() -> httpx.Client:
    """One client per process: its connection pool serves every request to the index."""
    global _client
    import httpx

    from ...version import __version__

    with _client_lock:
        if _client is None:
            _client = httpx.Client(
                timeout=httpx.Timeout(30.0, connect=10.0),
                follow_redirects=True,
                headers={"User-Agent": f"jupyter-userpkg/{__version__}"},
            )
        return _client


class Unreachable(Exception):
    """The index did not answer usefully (network, HTTP error, a page that does not parse)."""


@dataclass(frozen=True)
class Listing:
    """The project list as this process has it, and how current it is."""

    names: NameIndex
    fetched: float
    #: Set when the list is older than it should be (offline, or the index unreachable).
    note: str | None = None


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


class PypiIndex:
    """One index's project list and details, cached under ``SearchOptions.root()``."""

    def __init__(self, url: str, options: SearchOptions) -> None:
        self.url = url.rstrip("/")
        self.options = options
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        self.dir = options.root() / "pypi" / digest
        self.list_file = self.dir / "projects.txt"

    @property
    def label(self) -> str:
        return index_label(self.url)

    # ------------------------------------------------------------ project list

    def projects(self) -> Listing:
        """The project list: from memory or disk while fresh, else fetched (or stale, noted)."""
        with _lock:  # one fetch at a time per process; others then read what it wrote
            try:
                age = time.time() - self.list_file.stat().st_mtime
            except OSError:
                age = None
            if age is not None and (age <= self.options.list_ttl or self.options.offline):
                listing = self._load()
                if listing is not None:
                    if self.options.offline and age > self.options.list_ttl:
                        return replace(listing, note=self._stale_note(listing, None))
                    return listing
            if self.options.offline:
                raise BackendUnavailable(
                    f"working offline, and the project list of {self.label} is not cached; "
                    "connect to the network once (a search fetches it), or turn offline mode off"
                )
            try:
                return self._refresh()
            except Unreachable as exc:
                listing = self._load()
                if listing is None:
                    raise BackendUnavailable(
                        f"cannot reach {self.label} to list its projects ({first_line(exc)}), and "
                        "no copy is cached; check the network connection (or "
                        "UserPkg.default_index) and try again",
                        details=str(exc),
                    ) from None
                return replace(listing, note=self._stale_note(listing, exc))

    def _stale_note(self, listing: Listing, exc: BaseException | None) -> str:
        when = _when(listing.fetched)
        if exc is None:
            return f"working offline: {self.label} names as cached on {when}"
        return f"could not reach {self.label} ({first_line(exc)}); names as cached on {when}"

    def _load(self) -> Listing | None:
        """The cached list (kept in memory while its file is the same one), or None."""
        try:
            with self.list_file.open(encoding="utf-8") as fh:
                header = fh.readline()
                fetched = self.list_file.stat().st_mtime
                known = _lists.get(str(self.list_file))
                if known is not None and known[0] == header:
                    return Listing(known[1], fetched)
                body = fh.read()
            meta = json.loads(header)
            keys, shown = body.split("\0")
            names = NameIndex(keys, shown, {int(k): v for k, v in meta.get("odd", {}).items()})
        except (OSError, ValueError):  # not there, or not ours: as if not cached
            return None
        _lists[str(self.list_file)] = (header, names)
        return Listing(names, fetched)

    def _refresh(self) -> Listing:
        meta: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError), self.list_file.open() as fh:
            meta = json.loads(fh.readline())
        headers = {"Accept": _ACCEPT}
        if meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        if meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
        response = self._get(self.url + "/", headers)
        if response.status_code == 304:
            with contextlib.suppress(OSError):  # the cached copy is current: fresh for a TTL more
                os.utime(self.list_file)
            listing = self._load()
            if listing is not None:
                return listing
            response = self._get(self.url + "/", {"Accept": _ACCEPT})
        if response.status_code != 200:
            raise Unreachable(f"HTTP {response.status_code} from {response.url}")
        try:
            names = NameIndex.build(pypipages.project_names(response))
        except (ValueError, KeyError, TypeError) as exc:
            raise Unreachable(f"the project list of {self.label} cannot be read: {exc}") from None
        header = {
            "index": self.url,
            "written": time.time(),
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
            "odd": {str(k): v for k, v in names.odd.items()},
        }
        text = json.dumps(header) + "\n" + names.keys + "\0" + names.shown
        try:
            for directory in (self.options.root(), self.dir.parent, self.dir):
                private_dir(directory)
            atomic_write(self.list_file, text)
        except OSError:  # a cache that cannot be written: this search still has the list
            return Listing(names, time.time())
        self._load()
        return Listing(names, time.time())

    def _get(self, url: str, headers: dict[str, str]) -> httpx.Response:
        import httpx

        try:
            return client().get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise Unreachable(first_line(exc)) from None

    # ----------------------------------------------------------------- details

    def details_file(self, key: str) -> Path:
        return self.dir / "json" / f"{key}.json"

    def cached(self, key: str) -> tuple[float, PackageInfo | None] | None:
        """A package's cached details, whatever their age, and when they were fetched.

        ``(when, None)`` records that the index had no such package then: a search
        does not ask again for every listed name that has no page (deleted projects).
        """
        try:
            data = json.loads(self.details_file(key).read_text(encoding="utf-8"))
            info = data["info"]
            return float(data["fetched"]), None if info is None else PackageInfo.from_dict(info)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def details(self, name: str) -> PackageInfo:
        """A package's details: cached while fresh, else fetched; stale ones when unreachable.

        PackageNotFound when the index has no such project (asked again each time:
        a package published a minute ago must be found).
        """
        key = validate_name(name)
        found = self.cached(key)
        cached = (found[0], found[1]) if found is not None and found[1] is not None else None
        if cached is not None and time.time() - cached[0] <= self.options.info_ttl:
            return cached[1]
        if self.options.offline:
            if cached is not None:
                note = f"working offline: details as cached on {_when(cached[0])}"
                return replace(cached[1], notes=(*cached[1].notes, note), offline=True)
            if self._listed(key) is False:
                raise PackageNotFound(f"no package named {name!r} on {self.label}")
            raise BackendUnavailable(
                f"working offline, and the details of {key} are not cached; connect to the "
                "network once, or turn offline mode off"
            )
        try:
            info = self._fetch(key)
        except PackageNotFound:
            self._remember(key, None)
            raise
        except Unreachable as exc:
            if cached is None:
                raise BackendUnavailable(
                    f"cannot reach {self.label} for the details of {key} ({first_line(exc)}); "
                    "check the network connection (or UserPkg.default_index) and try again",
                    details=str(exc),
                ) from None
            note = f"could not reach {self.label}; details as cached on {_when(cached[0])}"
            return replace(cached[1], notes=(*cached[1].notes, note), offline=True)
        self._remember(key, info)
        return info

    def _remember(self, key: str, info: PackageInfo | None) -> None:
        for directory in (self.options.root(), self.dir.parent, self.dir, self.dir / "json"):
            private_dir(directory)
        record = {"fetched": time.time(), "info": None if info is None else info.to_dict()}
        with contextlib.suppress(OSError):  # a cache that cannot be written still answered
            atomic_write(self.details_file(key), json.dumps(record))

    def _listed(self, key: str) -> bool | None:
        """Whether the cached project list names ``key`` (None: no list is cached)."""
        listing = self._load()
        return None if listing is None else key in listing.names

    def json_api(self, key: str) -> str | None:
        """The JSON API URL of a project: ``<host>/pypi/<name>/json`` beside ``<host>/simple``."""
        parts = urlsplit(self.url)
        if not parts.path.endswith("/simple"):
            return None
        path = parts.path[: -len("/simple")] + f"/pypi/{key}/json"
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))

    def _fetch(self, key: str) -> PackageInfo:
        api = self.json_api(key)
        if api is not None:
            response = self._get(api, {"Accept": "application/json"})
            if response.status_code == 200:
                with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
                    return pypipages.from_json_api(response.json(), self.url)
            elif response.status_code >= 500:
                raise Unreachable(f"HTTP {response.status_code} from {response.url}")
            # 404 and the like: an unknown name, or an index without a JSON API.
        response = self._get(f"{self.url}/{key}/", {"Accept": _ACCEPT})
        if response.status_code in (404, 410):
            raise PackageNotFound(f"no package named {key!r} on {self.label}")
        if response.status_code != 200:
            raise Unreachable(f"HTTP {response.status_code} from {response.url}")
        spelled = self._spelling(key)
        try:
            return pypipages.from_project_page(response, key, spelled, self.url)
        except (ValueError, KeyError, TypeError) as exc:
            raise Unreachable(f"the page of {key} on {self.label} cannot be read: {exc}") from None

    def _spelling(self, key: str) -> str:
        known = _lists.get(str(self.list_file))
        return (known[1].spelling(key) if known else None) or key
