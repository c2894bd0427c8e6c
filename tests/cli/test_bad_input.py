"""Bad input from a terminal: one clear line, a non-zero exit, nothing changed."""

from __future__ import annotations

import pytest

from tests.conftest import CLI, env_state, installed

pytestmark = pytest.mark.slow


@pytest.fixture
def prepared(cli: CLI) -> CLI:
    cli("create", "work", "--kind", "venv", "--no-kernel", "tabulate<0.10")
    return cli


def assert_one_line_error(proc: object, *needles: str) -> None:
    stderr = proc.stderr  # type: ignore[attr-defined]
    assert proc.returncode != 0  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    first = stderr.splitlines()[0]
    assert first.startswith("jupyter userpkg: error: "), stderr
    for needle in needles:
        assert needle in first, first


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("../x", "invalid environment name"),
        ("a/b", "invalid environment name"),
        ("", "invalid environment name"),
        ("x" * 300, "invalid environment name"),
        (".hidden", "invalid environment name"),
    ],
)
def test_bad_env_names(prepared: CLI, name: str, needle: str) -> None:
    before = sorted(p.name for p in prepared.envs_dir.iterdir())
    for args in (
        ("create", name),
        ("install", "-n", name, "tabulate"),
        ("delete", name),
        ("list", "-n", name),
    ):
        proc = prepared(*args, check=False)
        assert_one_line_error(proc, needle)
        assert len(proc.stderr.splitlines()) == 1
    assert sorted(p.name for p in prepared.envs_dir.iterdir()) == before
    assert not (prepared.envs_dir.parent / "x").exists()


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("scipy>>1", "not a valid package spec"),
        ("foo; rm -rf /", "not a valid package spec"),
        ("git+https://github.com/psf/requests", "URL"),
        ("requests @ https://example.invalid/requests.whl", "direct URL"),
    ],
)
def test_bad_specs_change_nothing(prepared: CLI, spec: str, needle: str) -> None:
    before = env_state(prepared.envs_dir, "work")
    dists = installed(prepared.envs_dir, "work")
    proc = prepared("install", "-n", "work", spec, check=False)
    assert_one_line_error(proc, needle)
    assert env_state(prepared.envs_dir, "work") == before
    assert installed(prepared.envs_dir, "work") == dists


def test_option_as_spec_is_refused(prepared: CLI) -> None:
    before = env_state(prepared.envs_dir, "work")
    proc = prepared("install", "-n", "work", "--index-url=http://evil", "tabulate", check=False)
    assert proc.returncode == 2
    assert "unrecognized arguments: --index-url=http://evil" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    assert env_state(prepared.envs_dir, "work") == before


def test_unknown_package(prepared: CLI) -> None:
    before = env_state(prepared.envs_dir, "work")
    proc = prepared("install", "-n", "work", "no-such-package-userpkg-test-xyz", check=False)
    assert_one_line_error(proc, "package not found", "no-such-package-userpkg-test-xyz")
    assert env_state(prepared.envs_dir, "work") == before
    data = prepared.json("history", "-n", "work")
    assert len(data) == 1  # type: ignore[arg-type]


def test_unsatisfiable_shows_the_solvers_explanation(prepared: CLI) -> None:
    before = env_state(prepared.envs_dir, "work")
    proc = prepared("install", "-n", "work", "six>=1.17", "python-slugify<0", check=False)
    assert_one_line_error(proc, "cannot be installed together")
    assert "python-slugify<0" in proc.stderr  # the solver's explanation
    assert env_state(prepared.envs_dir, "work") == before
    proc = prepared("install", "-n", "work", "tabulate>=0.10", "tabulate<0.10", check=False)
    assert_one_line_error(proc, "given more than once")
    assert env_state(prepared.envs_dir, "work") == before


def test_json_errors(prepared: CLI) -> None:
    proc = prepared("install", "-n", "work", "scipy>>1", "--json", check=False)
    assert proc.returncode == 1
    import json

    error = json.loads(proc.stdout)
    assert error["code"] == "invalid_spec" and "scipy>>1" in error["message"]


def test_missing_env_and_revision(prepared: CLI) -> None:
    proc = prepared("list", "-n", "nope", check=False)
    assert_one_line_error(proc, "environment 'nope' does not exist")
    before = env_state(prepared.envs_dir, "work")
    proc = prepared("rollback", "-n", "work", "7", check=False)
    assert_one_line_error(proc, "has no revision 7")
    proc = prepared("remove", "-n", "work", "six", check=False)
    assert_one_line_error(proc, "not installed")
    proc = prepared("create", "work", check=False)
    assert_one_line_error(proc, "already exists")
    proc = prepared("create", "w2", "--from", "/nonexistent/req.txt", check=False)
    assert_one_line_error(proc, "cannot read")
    assert env_state(prepared.envs_dir, "work") == before
    assert not (prepared.envs_dir / "w2").exists()


def test_bad_requirements_file(prepared: CLI, tmp_path: object) -> None:
    from pathlib import Path

    req = Path(str(tmp_path)) / "requirements.txt"
    req.write_text("tabulate\n--index-url http://evil\n")
    proc = prepared("create", "w3", "--from", str(req), check=False)
    assert_one_line_error(proc, "line 2", "not accepted")
    assert not (prepared.envs_dir / "w3").exists()


def test_a_reader_that_stops_early_is_no_error(prepared: CLI) -> None:
    """`jupyter userpkg envs --json | head -0`: no traceback when the pipe is closed."""
    proc = prepared.popen("envs", "--json")
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_create_takes_yes_as_conda_does(cli: CLI) -> None:
    """`create NAME -y` (a conda habit) creates, as without it."""
    proc = cli("create", "habit", "--kind", "venv", "--no-kernel", "-y")
    assert "Traceback" not in proc.stderr
    assert [e["name"] for e in cli.json("envs")] == ["habit"]  # type: ignore[union-attr]
