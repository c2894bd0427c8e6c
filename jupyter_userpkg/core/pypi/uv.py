"""The PyPI engine: uv, from the ``uv`` wheel, driven with argument lists.

Resolution is ``uv pip compile`` into a PEP 751 ``pylock.toml`` (exact
versions, artifact URLs, sizes and hashes): that file is the plan's lock.
Applying is ``uv pip sync`` of that lock.  uv never sees a shell string, the
user's own uv configuration (``--no-config``) or a chance to download Python.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from ..errors import BackendUnavailable, InvalidSpec, PackageNotFound, Unsatisfiable
from ..options import UvOptions
from ..proc import ProcResult, run

#: Receives each line uv writes on stderr (its progress report).
LineFn = Callable[[str], None]

_ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


def uv_bin() -> str:
    """The uv binary shipped by the ``uv`` wheel (never one found on PATH)."""
    try:
        import uv
    except ImportError:  # pragma: no cover - uv is a hard dependency
        raise BackendUnavailable(
            "the 'uv' package is not installed; reinstall jupyter_userpkg"
        ) from None
    return str(uv.find_uv_bin())


#: Variables of the caller's environment uv must not see: its settings come from
#: the configuration (``UvOptions``) only, as its own config files are ignored
#: (``--no-config``); a ``UV_DEFAULT_INDEX`` or ``PIP_INDEX_URL`` of the caller
#: must not send it to another index.
_DROPPED = ("UV_", "PIP_")


def _env(python_downloads: bool = False) -> dict[str, str]:
    # Keep an activated venv or conda env of the caller out of uv's choices:
    # every call names its interpreter explicitly.  Python downloads are the
    # policy's to allow (``python_downloads``).
    downloads = "automatic" if python_downloads else "never"
    return {"VIRTUAL_ENV": "", "CONDA_PREFIX": "", "UV_PYTHON_DOWNLOADS": downloads}


def _clean(text: str) -> str:
    return _ANSI_RE.sub("", text).strip()


def _raise_for(result: ProcResult, what: str) -> None:
    if result.returncode == 0:
        return
    err = _clean(result.stderr)
    lines = [ln for ln in err.splitlines() if not ln.startswith("warning:")]
    text = "\n".join(lines).strip()
    if "network was disabled" in text or "network is disabled" in text:
        missing = sorted(set(re.findall(r"([A-Za-z0-9._-]+) was not found in the cache", text)))
        what = ", ".join(missing) if missing else "what this change needs"
        raise BackendUnavailable(
            f"working offline, and the package cache does not hold {what}; connect to the "
            "network once, or turn offline mode off",
            details=text,
        )
    if "No solution found" in text:
        explanation = "\n".join(
            ln.strip().removeprefix("cause:").strip()
            for ln in lines
            if not ln.startswith("error: No solution found")
        ).strip()
        missing = re.findall(
            r"(?:Because |and )([A-Za-z0-9._-]+) was not found in the package registry", text
        )
        if missing and "you require" in text:
            names = sorted(set(missing))
            raise PackageNotFound(
                f"package not found on the index: {', '.join(names)}",
                details=explanation,
                missing=names,
            )
        message = "the requested packages cannot be installed together"
        if explanation and "\n" not in explanation:
            message += ": " + _shorten(explanation)
        unavailable = _unavailable(text)
        extra = {"unavailable": unavailable} if unavailable else {}
        raise Unsatisfiable(message, details=explanation, **extra)
    if re.search(r"(Failed to fetch|error sending request|dns error|Could not connect)", text):
        raise BackendUnavailable(
            "the package index could not be reached; check the network or the index URL",
            details=text,
        )
    if "Failed to parse" in text or "Invalid requirement" in text:
        raise InvalidSpec(f"uv rejected the request: {_first_error(text)}", details=text)
    raise BackendUnavailable(f"{what} failed: {_first_error(text)}", details=text)


#: How uv says that the index has a package but not the version a solve needs.
_NO_VERSION = re.compile(
    r"there (?:is no version|are no versions) of ([A-Za-z0-9][A-Za-z0-9._-]*)"
    r"|only ([A-Za-z0-9][A-Za-z0-9._-]*?)(?:[=<>!~ ][^,]*)? (?:is|are) available"
)


def _unavailable(text: str) -> list[str]:
    """The packages an unsolvable request wants versions of that the index does not serve
    (data for whoever knows the index is a curated one: the engine does not judge it)."""
    found = [a or b for a, b in _NO_VERSION.findall(text)]
    return sorted({re.sub(r"[-_.]+", "-", n).lower() for n in found})


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("error:"):
            return _shorten(line.removeprefix("error:").strip())
    return _shorten(text.splitlines()[0] if text else "unknown error")


def create_venv(prefix: Path, python: str, *, python_downloads: bool = False) -> None:
    """Create an empty venv at ``prefix`` (its final path: venvs are not relocatable).

    ``python_downloads``: the policy lets uv fetch a managed Python it lacks.
    """
    downloads = [] if python_downloads else ["--no-python-downloads"]
    result = run(
        [uv_bin(), "venv", "--no-config", *downloads, "--quiet", "--python", python, str(prefix)],
        env=_env(python_downloads),
        drop=_DROPPED,
    )
    if result.returncode != 0:
        err = _clean(result.stderr)
        if "No interpreter found" in err or "not found" in err.lower():
            raise BackendUnavailable(
                f"no Python interpreter matching {python!r} was found on PATH or among the "
                "Pythons uv manages; give the interpreter's path instead "
                "(--python /path/to/python3.X), or put it on PATH",
                details=err,
            )
        _raise_for(result, "creating the environment")


def compile_lock(
    python: str,
    requirements: Sequence[str],
    *,
    options: UvOptions,
    constraints: Iterable[str] = (),
    preferences: str = "",
    upgrade: bool = False,
    upgrade_packages: Iterable[str] = (),
    python_version: str = "",
    on_line: LineFn | None = None,
) -> str:
    """Resolve ``requirements`` for ``python`` and return the pylock.toml text.

    ``python_version`` resolves for another version than ``python``'s (a conda
    env whose Python is only planned, not installed yet).

    ``preferences`` is a previous lock whose versions uv keeps unless a
    requirement forces a move (or ``upgrade``/``upgrade_packages`` asks for one):
    that is what makes ``install`` and ``update NAME`` move only what must move.
    """
    with tempfile.TemporaryDirectory(prefix="userpkg-solve-") as tmp:
        req_file = Path(tmp) / "requirements.in"
        req_file.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        out = Path(tmp) / "pylock.toml"
        if preferences:
            out.write_text(preferences, encoding="utf-8")
        args = [
            uv_bin(),
            "pip",
            "compile",
            str(req_file),
            "--format",
            "pylock.toml",
            "-o",
            str(out),
            "--preview-features",
            "pylock",
            "--no-header",
            "--quiet",
            "--python",
            python,
            *options.args(),
        ]
        cons = list(constraints)
        if cons:
            cons_file = Path(tmp) / "constraints.txt"
            cons_file.write_text("\n".join(cons) + "\n", encoding="utf-8")
            args += ["--constraints", str(cons_file)]
        if python_version:
            args += ["--python-version", python_version]
        if upgrade:
            args.append("--upgrade")
        for name in upgrade_packages:
            args += ["--upgrade-package", name]
        result = run(args, env=_env(), drop=_DROPPED, on_line=on_line)
        _raise_for(result, "resolving")
        return out.read_text(encoding="utf-8")


def sync(
    python: str,
    lock_text: str,
    *,
    options: UvOptions,
    on_line: LineFn | None = None,
) -> None:
    """Make the environment of ``python`` hold exactly the packages of the lock.

    The lock is handed to uv as pinned, hash-checked requirements: uv's cache
    serves those as registry packages (hard links, no download when warm),
    whereas a pylock.toml's artifact URLs are re-fetched on every sync.
    """
    with tempfile.TemporaryDirectory(prefix="userpkg-sync-") as tmp:
        req_file = Path(tmp) / "requirements.txt"
        lines, hashed = _pinned_requirements(lock_text, options.find_links)
        req_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        args = [
            uv_bin(),
            "pip",
            "sync",
            str(req_file),
            "--allow-empty-requirements",
            "--python",
            python,
            *options.args(),
        ]
        if hashed:
            args.append("--require-hashes")
        result = _offline_first(args, options, on_line)
        if result.returncode == 0:
            return
        if "there is no version of" in result.stderr:
            # The index page uv reads now lags the one the solve saw (a release
            # still spreading over the CDN).  The lock names every artifact by URL
            # and hash, so install from the lock itself, without the index page;
            # but only from where the configured indexes serve files: an imported
            # lock is another party's, and its URLs could point anywhere.
            foreign = [url for url in artifact_urls(lock_text) if not served(url, options)]
            if foreign:
                raise PackageNotFound(
                    f"{_first_error(result.stderr)}; the lock's own file {foreign[0]} is "
                    "not on a configured index, so it is not installed from there",
                    details=_clean(result.stderr),
                )
            lock_file = Path(tmp) / "pylock.toml"
            lock_file.write_text(lock_text, encoding="utf-8")
            by_url = [
                uv_bin(),
                "pip",
                "sync",
                str(lock_file),
                "--preview-features",
                "pylock",
                "--allow-empty-requirements",
                "--python",
                python,
                *options.args(),
            ]
            result = run(by_url, env=_env(), drop=_DROPPED, on_line=on_line)
        _raise_for(result, "installing")


#: Where PyPI's index pages send installers for the files.
_PYPI_FILES = ("https://pypi.org/", "https://files.pythonhosted.org/")


def artifact_urls(lock_text: str) -> list[str]:
    """The URL of every wheel and sdist a pylock.toml names."""
    data = tomllib.loads(lock_text) if lock_text.strip() else {}
    out = []
    for pkg in data.get("packages", []) if isinstance(data.get("packages"), list) else []:
        if not isinstance(pkg, dict):
            continue
        artifacts = [*(pkg.get("wheels") or []), *([pkg["sdist"]] if pkg.get("sdist") else [])]
        out += [str(a["url"]) for a in artifacts if isinstance(a, dict) and "url" in a]
    return out


def served(url: str, options: UvOptions) -> bool:
    """Whether ``url`` is on a configured index's server (or PyPI's file host)."""
    from urllib.parse import urlsplit

    origins = []
    for index in (options.default_index, *options.extra_index_urls):
        if index:
            parts = urlsplit(index)
            origins.append(f"{parts.scheme}://{parts.netloc}/")
    if not options.default_index:
        origins += _PYPI_FILES
    return url.startswith(tuple(origins))


def _offline_first(args: list[str], options: UvOptions, on_line: LineFn | None) -> ProcResult:
    """Run an install of pinned, hash-checked packages from the cache alone if it can.

    The solve that made the lock has just refreshed the index, and the lock pins
    every artifact by hash: when the cache holds them all, the install needs no
    network (and fails before touching the env if it does not).
    """
    if not options.offline:
        result = run([*args, "--offline"], env=_env(), drop=_DROPPED, on_line=on_line)
        if result.returncode == 0:
            return result
    return run(args, env=_env(), drop=_DROPPED, on_line=on_line)


def install_pinned(
    python: str,
    lock_text: str,
    *,
    remove: Sequence[str] = (),
    options: UvOptions,
    on_line: LineFn | None = None,
) -> None:
    """Install the lock's packages as they are, and uninstall ``remove``; touch nothing else.

    For a conda env's PyPI layer: ``uv pip sync`` would remove the Python
    packages that conda installed in the same site-packages.
    """
    lines, hashed = _pinned_requirements(lock_text, options.find_links)
    if lines:
        with tempfile.TemporaryDirectory(prefix="userpkg-install-") as tmp:
            req_file = Path(tmp) / "requirements.txt"
            req_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
            args = [
                uv_bin(),
                "pip",
                "install",
                "--no-deps",
                "-r",
                str(req_file),
                "--python",
                python,
                *options.args(),
            ]
            if hashed:
                args.append("--require-hashes")
            _raise_for(_offline_first(args, options, on_line), "installing")
    if remove:
        names = [checked_name(n) for n in remove]
        args = [uv_bin(), "pip", "uninstall", "--python", python, *options.args(), "--", *names]
        _raise_for(run(args, env=_env(), drop=_DROPPED, on_line=on_line), "removing")


#: A package name (PEP 508), matched in full.
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
#: Hash algorithms uv checks, and the length of their hex digests.
_DIGESTS = {"sha256": 64, "sha384": 96, "sha512": 128}


def checked_name(name: object) -> str:
    """A package name fit for a command line, or InvalidSpec."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidSpec(f"{name!r} is not a valid package name")
    return name


def lock_entries(lock_text: str) -> list[tuple[str, str, list[str]]]:
    """``(name, version, ["algo:digest", ...])`` of every package of a pylock.toml.

    Every field is checked before it can reach a command line: a lock may come
    from another party (``create --from``), and a version carrying a newline and
    an option would otherwise become an option of uv.  InvalidSpec names the field.
    """
    from packaging.version import InvalidVersion, Version

    try:
        data = tomllib.loads(lock_text) if lock_text.strip() else {}
    except tomllib.TOMLDecodeError as exc:
        raise InvalidSpec(f"the lock is not valid TOML: {exc}") from None
    packages = data.get("packages", [])
    if not isinstance(packages, list):
        raise InvalidSpec("the lock's 'packages' is not a list")
    out = []
    for pkg in packages:
        if not isinstance(pkg, dict):
            raise InvalidSpec("a package of the lock is not a table")
        name = checked_name(pkg.get("name"))
        version = pkg.get("version")
        try:
            if not isinstance(version, str) or version != version.strip():
                raise InvalidVersion(str(version))
            Version(version)
        except InvalidVersion:
            raise InvalidSpec(f"{name}: {version!r} is not a valid version") from None
        artifacts = list(pkg.get("wheels") or [])
        if pkg.get("sdist"):
            artifacts.append(pkg["sdist"])
        hashes = []
        for art in artifacts:
            found = art.get("hashes") if isinstance(art, dict) else None
            for algo, digest in (found or {}).items():
                size = _DIGESTS.get(algo)
                if size is None or not re.fullmatch(f"[0-9a-f]{{{size}}}", str(digest)):
                    raise InvalidSpec(f"{name} {version}: {algo}:{digest!r} is not a valid hash")
                hashes.append(f"{algo}:{digest}")
        out.append((name, version, hashes))
    return out


def _pinned_requirements(lock_text: str, find_links: Sequence[str] = ()) -> tuple[list[str], bool]:
    """``name==version --hash=...`` lines for a pylock.toml; and whether all have hashes.

    A wheel of the administrator's wheel dir that matches the lock goes without its
    hash line, so that uv takes it from there (:mod:`.wheeldir`): else uv downloads
    and unpacks it a second time.  uv checks the other lines' hashes all the same.
    """
    from packaging.utils import canonicalize_name  # PyPI installs only: not on conda's path

    from .wheeldir import local_wheels

    lines: list[str] = []
    all_hashed = True
    local = local_wheels(lock_text, find_links)
    for name, version, hashes in lock_entries(lock_text):
        if canonicalize_name(name) in local:
            hashes = []
        all_hashed = all_hashed and bool(hashes)
        lines.append(" ".join([f"{name}=={version}", *(f"--hash={h}" for h in hashes)]))
    return lines, all_hashed and bool(lines)


def python_info(python: str) -> dict[str, object]:
    """Ask an interpreter for its version and the site dirs a layer must see."""
    code = (
        "import json, site, sys, sysconfig\n"
        "dirs = list(site.getsitepackages())\n"
        "if site.ENABLE_USER_SITE: dirs.append(site.getusersitepackages())\n"
        "print(json.dumps({'version': '%d.%d.%d' % sys.version_info[:3], "
        "'executable': sys.executable, 'prefix': sys.prefix, 'site': dirs}))\n"
    )
    result = run([python, "-E", "-c", code])
    if result.returncode != 0:
        raise BackendUnavailable(
            f"the interpreter {python!r} could not be queried", details=_clean(result.stderr)
        )
    import json

    info: dict[str, object] = json.loads(result.stdout)
    return info


def scripts_dir(prefix: Path) -> Path:
    """``bin`` on POSIX, ``Scripts`` on Windows."""
    return prefix / ("Scripts" if os.name == "nt" else "bin")


def env_python(prefix: Path) -> Path:
    return scripts_dir(prefix) / ("python.exe" if os.name == "nt" else "python")
