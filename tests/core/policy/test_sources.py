"""Where the policy comes from, against a user who sets every variable and writes every
file of their own: fixed administrator's dirs, files only the administrator could have
written, a policy URL named in an administrator's file and fetched without the
caller's proxies, and no copy of it that a user can edit."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.core.policy import admintrust
from jupyter_userpkg.core.policy import sources as policysource

ROOT = Path(__file__).resolve().parents[3]
NOBODY = 65534  # an account that is neither root nor the package's owner
needs_root = pytest.mark.skipif(
    os.name == "nt" or os.geteuid() != 0, reason="giving a file to another user needs root"
)


@pytest.fixture
def admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An administrator's dir (root's, 0755) standing in for /etc/jupyter."""
    directory = tmp_path / "admin"
    directory.mkdir()
    monkeypatch.setattr(policysource, "admin_dirs", lambda: [directory])
    monkeypatch.setattr(policysource, "_FETCHED", {})
    return directory


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def _serve(answers: list[tuple[int, bytes]]) -> tuple[str, Any]:
    """A loopback HTTP server answering GETs with ``answers[0]`` (a list the test edits)."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            status, body = answers[0]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/policy.json", server


@pytest.fixture
def served() -> Iterator[tuple[str, list[tuple[int, bytes]], Any]]:
    answers = [(200, json.dumps({"blocked_packages": ["evil"], "max_envs": 2}).encode())]
    url, server = _serve(answers)
    yield url, answers, server
    server.shutdown()
    server.server_close()


def _admin_dirs_in_subprocess(env: dict[str, str], python: str = sys.executable) -> list[str]:
    code = (
        "import json; from jupyter_userpkg.core.policy import admintrust;"
        "print(json.dumps([str(d) for d in admintrust.admin_dirs()]))"
    )
    out = subprocess.run(
        [python, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    return list(json.loads(out))


def test_the_administrators_dirs_are_fixed_whatever_the_caller_sets(tmp_path: Path) -> None:
    """``XDG_CONFIG_DIRS`` with ``JUPYTER_PLATFORM_DIRS=1`` made a dir of the user's an
    administrator's dir; no variable moves them now."""
    evil = tmp_path / "evil"
    (evil / "jupyter").mkdir(parents=True)
    write(evil / "jupyter" / "jupyter_userpkg_policy.json", {"indexes": ["https://evil/simple"]})
    env = {
        **os.environ,
        "JUPYTER_PLATFORM_DIRS": "1",
        "XDG_CONFIG_DIRS": str(evil),
        "XDG_CONFIG_HOME": str(evil),
        "JUPYTER_CONFIG_DIR": str(evil / "jupyter"),
        "JUPYTER_CONFIG_PATH": str(evil / "jupyter"),
        "JUPYTER_PREFER_ENV_PATH": "1",
    }
    prefix = admintrust.install_prefix()
    assert prefix is not None
    expected = [str(prefix / "etc" / "jupyter"), "/usr/local/etc/jupyter", "/etc/jupyter"]
    assert _admin_dirs_in_subprocess(env) == expected


def test_a_layer_kernel_reads_the_servers_dir_whatever_its_files_say(tmp_path: Path) -> None:
    """In a layer env's kernel ``sys.prefix`` is the user's env; renaming the layer's
    ``.pth`` marker (another .pth still adds the base) made that env's ``etc/jupyter``
    an administrator's dir.  The dir comes from where this package is installed."""
    from jupyter_userpkg.core.kinds.layer import BASE_PTH, write_base_pth
    from jupyter_userpkg.core.pypi import uv as uvbackend

    layer = tmp_path / "layer"
    uvbackend.create_venv(layer, sys.executable)
    write_base_pth(layer, tuple(site.getsitepackages()))
    (site_dir,) = layer.glob("lib/python*/site-packages")
    os.rename(site_dir / BASE_PTH, site_dir / "zz_renamed.pth")
    (layer / "etc" / "jupyter").mkdir(parents=True)
    write(layer / "etc" / "jupyter" / "jupyter_userpkg_policy.json", {"max_envs": 99})
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
    dirs = _admin_dirs_in_subprocess(env, str(uvbackend.env_python(layer)))
    assert str(layer / "etc" / "jupyter") not in dirs
    assert dirs[0] == str(admintrust.install_prefix() / "etc" / "jupyter")  # type: ignore[operator]


@needs_root
def test_a_planted_installation_record_is_passed_over(tmp_path: Path) -> None:
    """An editable install is found by its record; one a user planted on PYTHONPATH (a
    dir of theirs) does not make their dir the administrator's."""
    fake_site = tmp_path / "evil" / "lib" / "python3.11" / "site-packages"
    record = fake_site / "jupyter_userpkg-99.dist-info"
    record.mkdir(parents=True)
    write(record / "direct_url.json", {"url": ROOT.as_uri(), "dir_info": {"editable": True}})
    for path in [tmp_path / "evil", *(tmp_path / "evil").rglob("*")]:
        os.chown(path, NOBODY, NOBODY)
    env = {**os.environ, "PYTHONPATH": str(fake_site)}
    dirs = _admin_dirs_in_subprocess(env)
    assert not any(d.startswith(str(tmp_path)) for d in dirs)


@needs_root
@pytest.mark.parametrize("how", ["owner", "dir-writable", "symlink"])
def test_a_file_someone_else_could_write_is_refused(admin: Path, tmp_path: Path, how: str) -> None:
    """The policy fails closed, saying which file and why, when another account could
    have written it: the file's owner, a writable dir above it, a link to a user's file."""
    policy = write(admin / "jupyter_userpkg_policy.json", {"max_envs": 3})
    if how == "owner":
        os.chown(policy, NOBODY, NOBODY)
        culprit = str(policy)
    elif how == "dir-writable":
        admin.chmod(0o777)
        culprit = str(admin)
    else:
        mine = write(tmp_path / "mine.json", {})
        os.chown(mine, NOBODY, NOBODY)
        policy.unlink()
        policy.symlink_to(mine)
        culprit = str(mine)
    loaded = policysource.load()
    assert culprit in loaded.policy.error and "refused" in loaded.policy.error
    assert "chown root, chmod go-w" in loaded.policy.error
    verdict = loaded.policy.package_verdict("anything", "pypi")
    assert verdict is not None and "nothing can be installed" in verdict.reason
    assert loaded.notes and loaded.notes[0] == loaded.policy.error  # `policy` says it


@needs_root
def test_a_settings_file_someone_else_could_write_is_never_run(admin: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    config = admin / "jupyter_userpkg_config.py"
    config.write_text(f"open({str(marker)!r}, 'w'); c.UserPkg.audit_log = '/dev/null'\n")
    os.chown(config, NOBODY, NOBODY)
    loaded = policysource.load()
    assert not marker.exists() and str(config) in loaded.policy.error
    assert "audit_log" not in loaded.settings


def test_a_sticky_dir_is_no_hole(tmp_path: Path) -> None:
    """/tmp-like dirs (1777) hold root's files safely: others cannot replace them."""
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    inner = sticky / "jupyter"
    inner.mkdir()
    assert admintrust.untrusted_reason(inner / "jupyter_userpkg_policy.json") is None
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    assert "every user" in str(admintrust.untrusted_reason(open_dir / "x.json"))


def test_the_url_comes_from_the_administrators_file_not_the_environment(
    admin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: Any
) -> None:
    """``JUPYTER_USERPKG_POLICY_URL`` was the user's to drop or replace; the URL is named in
    the administrator's file, and the variable is not read (``policy`` says so)."""
    url, _, _ = served
    write(admin / "jupyter_userpkg_policy.json", {"url": url})
    mine = write(tmp_path / "mine.json", {"max_envs": 50})
    monkeypatch.delenv(policysource.OLD_URL_VAR, raising=False)
    loaded = policysource.load()
    assert loaded.policy.package_verdict("evil", "pypi") is not None
    assert loaded.policy.max_envs == 2 and loaded.policy.origins["max_envs"] == url
    monkeypatch.setenv(policysource.OLD_URL_VAR, str(mine))
    replaced = policysource.load()
    assert replaced.policy.max_envs == 2
    assert any(policysource.OLD_URL_VAR in n and "not read" in n for n in replaced.notes)
    assert f"{url} (named in {admin / 'jupyter_userpkg_policy.json'})" in (
        policysource.describe_sources()
    )


def test_the_callers_proxy_cannot_make_the_url_unreachable(
    admin: Path, monkeypatch: pytest.MonkeyPatch, served: Any
) -> None:
    """A dead proxy for the policy's host forced the fallback to a copy the user had
    edited; the fetch takes no proxy, certificate or netrc setting of the caller's."""
    url, _, _ = served
    write(admin / "jupyter_userpkg_policy.json", {"url": url})
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "pypi.org")
    loaded = policysource.load()
    assert not loaded.policy.error and not loaded.notes
    assert loaded.policy.package_verdict("evil", "pypi") is not None


def test_an_unreachable_url_falls_back_only_on_the_administrators_copies(
    admin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: Any
) -> None:
    """What this process fetched before serves with a note; a new process with no copy
    the administrator keeps fails closed; a file in the user's cache is never read."""
    url, answers, server = served
    write(admin / "jupyter_userpkg_policy.json", {"url": url})
    assert policysource.load().policy.max_envs == 2
    monkeypatch.setattr(policysource, "FRESH", 0.0)  # from now on, always fetched again
    answers[0] = (503, b"")
    kept = policysource.load()
    assert kept.policy.max_envs == 2
    assert any("HTTP 503" in n and "fetched earlier" in n for n in kept.notes)
    policysource._FETCHED.clear()  # a new process: the next CLI command
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "jupyter-userpkg" / "policy"
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("a.json", "b.json"):
        write(cache / name, {})  # the old user-writable copies: never read
    closed = policysource.load()
    assert "cannot be fetched (HTTP 503)" in closed.policy.error
    assert closed.policy.package_verdict("anything", "pypi") is not None
    # The administrator names a copy their own processes keep up to date.
    copy = admin / "policy-copy.json"
    write(admin / "jupyter_userpkg_policy.json", {"url": url, "url_copy": str(copy)})
    answers[0] = (200, json.dumps({"max_envs": 4}).encode())
    assert policysource.load().policy.max_envs == 4  # root fetched it: the copy is written
    assert json.loads(copy.read_text()) == {"max_envs": 4}
    policysource._FETCHED.clear()
    answers[0] = (500, b"")
    fallback = policysource.load()
    assert fallback.policy.max_envs == 4 and any(str(copy) in n for n in fallback.notes)
    if os.geteuid() == 0:  # a copy someone else could write is not the administrator's
        os.chown(copy, NOBODY, NOBODY)
        assert "refused" in policysource.load().policy.error
    server.shutdown()
    answers[0] = (200, b"")


def test_answers_that_are_no_policy_fail_closed(admin: Path, served: Any) -> None:
    url, answers, _ = served
    write(admin / "jupyter_userpkg_policy.json", {"url": url})
    answers[0] = (404, b"not found")
    assert "HTTP 404" in policysource.load().policy.error
    answers[0] = (200, b"<html>")
    assert "not valid JSON" in policysource.load().policy.error
    write(admin / "jupyter_userpkg_policy.json", {"url_copy": "/x"})
    assert "go with a 'url'" in policysource.load().policy.error


@pytest.mark.parametrize("url", ["http://[::1", "https://a..b/p.json", "https://xn--/p", "ftp://x"])
def test_a_policy_url_with_no_host_fails_closed(admin: Path, url: str) -> None:
    write(admin / "jupyter_userpkg_policy.json", {"url": url})
    error = policysource.load().policy.error
    assert "not a URL" in error or "cannot be fetched" in error or "only http(s)" in error


def test_a_remote_policy_only_tightens_the_administrators_files(
    admin: Path, tmp_path: Path
) -> None:
    remote = write(
        tmp_path / "remote.json",
        {"indexes": ["https://other.example.org/simple"], "max_envs": 9, "snapshot": "2024-01-01"},
    )
    write(
        admin / "jupyter_userpkg_policy.json",
        {"indexes": ["https://mirror.example.org/simple"], "max_envs": 5, "url": str(remote)},
    )
    policy = policysource.load().policy
    assert policy.indexes == ("https://mirror.example.org/simple",)
    assert policy.max_envs == 5
    assert policy.snapshot == "2024-01-01"  # tightening is taken from any source


def test_a_remote_policy_cannot_move_the_curated_channels(admin: Path, tmp_path: Path) -> None:
    """The administrator curates conda-forge by name, without an alias: a remote policy
    cannot make that name another server."""
    from jupyter_userpkg.core.policy.enforce import curated_urls

    remote = write(tmp_path / "remote.json", {"channel_alias": "https://other.example.org/"})
    write(admin / "jupyter_userpkg_policy.json", {"channels": ["conda-forge"], "url": str(remote)})
    assert curated_urls(policysource.load().policy) == ["https://conda.anaconda.org/conda-forge"]
    write(
        admin / "jupyter_userpkg_config.json",
        {"UserPkg": {"channel_alias": "https://mirror.example.org/"}},
    )
    assert curated_urls(policysource.load().policy) == ["https://mirror.example.org/conda-forge"]


def test_an_unreadable_policy_keeps_the_administrators_settings(
    admin: Path, tmp_path: Path
) -> None:
    """A policy file that cannot be read refuses every package; the administrator's
    index still holds (no user config takes its place) and the env's files stay."""
    from jupyter_userpkg.core import envconfig
    from jupyter_userpkg.core.kinds.base import Context
    from jupyter_userpkg.core.options import CondaOptions, UvOptions
    from jupyter_userpkg.core.store import EnvStore

    (admin / "jupyter_userpkg_policy.json").write_text("{broken")
    mirror = "https://mirror.example.org/simple"
    write(admin / "jupyter_userpkg_config.json", {"UserPkg": {"default_index": mirror}})
    loaded = policysource.load()
    assert "not valid JSON" in loaded.policy.error
    assert loaded.settings["default_index"][0] == mirror
    assert loaded.policy.indexes == (mirror,)
    prefix = tmp_path / "env"
    prefix.mkdir()
    written = f"# {envconfig.HEADER}\nindex-url = {json.dumps(mirror)}\n"
    (prefix / "uv.toml").write_text(written)
    ctx = Context(EnvStore(tmp_path / "envs"), "", UvOptions(), CondaOptions(), loaded.policy)
    assert envconfig.write(ctx, prefix, conda=False) == {"UV_CONFIG_FILE": str(prefix / "uv.toml")}
    assert (prefix / "uv.toml").read_text() == written
    # A broken administrator's config file fails closed too, saying which file.
    (admin / "jupyter_userpkg_config.py").write_text("c.UserPkg.default_index = (")
    (admin / "jupyter_userpkg_config.json").unlink()
    (admin / "jupyter_userpkg_policy.json").write_text("{}")
    assert "jupyter_userpkg_config.py" in policysource.load().policy.error


def test_a_policy_file_that_says_nothing_of_managed_pythons_says_no(
    admin: Path, tmp_path: Path
) -> None:
    remote = write(tmp_path / "remote.json", {"python_downloads": True})
    write(admin / "jupyter_userpkg_policy.json", {"max_envs": 5, "url": str(remote)})
    loaded = policysource.load().policy
    assert loaded.python_downloads is False
    assert loaded.origins["python_downloads"] == str(admin / "jupyter_userpkg_policy.json")
    write(admin / "jupyter_userpkg_policy.json", {"python_downloads": True})
    assert policysource.load().policy.python_downloads is True
    write(admin / "jupyter_userpkg_policy.json", {})  # says nothing: no policy shown
    assert not policysource.load().policy.origins
