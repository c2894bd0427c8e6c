"""The command layer and the CLI's terminal rendering, without running a command."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_userpkg import cli
from jupyter_userpkg.commands.dispatch import error_body, guarded_dispatch
from jupyter_userpkg.commands.grammar import VERBS, build_parser, parse_command
from jupyter_userpkg.commands.render import error_lines, progress_text
from jupyter_userpkg.core.errors import (
    BadCommandLine,
    EnvBusy,
    TransactionFailed,
    Unsatisfiable,
    UserPkgError,
)
from jupyter_userpkg.core.events import ProgressEvent, Reporter

ENGINES = ("tomlkit", "yaml", "rattler", "uv", "filelock", "IPython", "packaging", "httpx")


def modules_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    # A None entry is an import blocked on purpose (cli.py's httpx._main), not a module.
    loaded = "sorted(k for k, v in sys.modules.items() if v is not None)"
    report = f"\nimport json\nprint('\\nMODULES', json.dumps({loaded}), file=sys.stderr)"
    proc = subprocess.run(
        [sys.executable, "-c", "import sys\n" + code + report],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("MODULES "), proc.stderr
    return set(json.loads(last[len("MODULES ") :]))


HELP = (
    "import contextlib, io\n"
    "from jupyter_userpkg.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
    "    try:\n"
    "        main(['--help'])\n"
    "    except SystemExit:\n"
    "        pass\n"
    "assert 'install' in out.getvalue()\n"
    "assert main(['frobnicate']) == 2\n"
)

#: Which verbs' command dataclasses the process made (each is made when first used).
BUILT = (
    "\nfrom jupyter_userpkg.commands import verbs\n"
    "print('BUILT', [v for v, c in verbs.COMMANDS.items() if '__dataclass_fields__' in vars(c)])\n"
)


def test_help_and_grammar_errors_load_no_service_or_engine() -> None:
    """What the front end and the command layer import themselves."""
    loaded = modules_after(HELP)
    assert "jupyter_userpkg.cli" in loaded and "jupyter_userpkg.commands.grammar" in loaded
    assert "jupyter_userpkg.core.service" not in loaded
    assert "jupyter_userpkg.commands.config" not in loaded
    assert not [m for m in loaded if m.split(".")[0] in ENGINES]
    other_fronts = ("jupyter_userpkg.magic", "jupyter_userpkg.server")
    assert not [m for m in loaded if m.startswith(other_fronts)]


def test_a_command_line_makes_only_its_own_verbs_command() -> None:
    """Making every verb's frozen dataclass costs a tenth of a short command's start-up:
    ``--help`` makes none, ``envs`` its own alone (with its bases)."""
    for argv, built in (("['--help']", []), ("['envs', '--json']", ["envs"])):
        code = (
            "import contextlib, io\nfrom jupyter_userpkg.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    try:\n        main({argv})\n    except SystemExit:\n        pass\n" + BUILT
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
        assert proc.stdout.strip().splitlines()[-1] == f"BUILT {built}", proc.stderr


def test_read_only_front_end_modules_load_no_engine() -> None:
    """Loading every module a read-only verb runs through, before the service is built."""
    loaded = modules_after(
        "import jupyter_userpkg.cli, jupyter_userpkg.commands.dispatch, "
        "jupyter_userpkg.commands.render"
    )
    assert not [m for m in loaded if m.split(".")[0] in ENGINES]
    assert "jupyter_userpkg.core.store" not in loaded


def test_envs_loads_no_kind_pipeline_or_engine(tmp_path: Path) -> None:
    """``envs`` reads each env's metadata only: it starts as fast as any Jupyter command."""
    env = {
        **os.environ,
        "JUPYTER_USERPKG_ENVS_DIR": str(tmp_path / "envs"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
    }
    subprocess.run(
        [sys.executable, "-m", "jupyter_userpkg", "create", "one", "--kind", "venv", "--no-kernel"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    loaded = modules_after(
        "from jupyter_userpkg.cli import main\nassert main(['envs', '--json']) == 0\n", env
    )
    assert "jupyter_userpkg.core.service" in loaded  # it really ran
    # The kinds' registry names the kinds (the grammar's --kind); no kind's module loads.
    heavy = ("jupyter_userpkg.core.pipeline", "jupyter_userpkg.core.kinds.")
    assert not [m for m in loaded if m.startswith(heavy)]
    assert not [m for m in loaded if m.split(".")[0] in ENGINES]


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (
            ProgressEvent("install", "+ numpy==2.1", "numpy", 3, 12),
            "install: + numpy==2.1 (3/12)",
        ),
        (ProgressEvent("remove", "- six==1.16.0", "six", 2), "remove: - six==1.16.0 (2)"),
        (
            ProgressEvent("download", "numpy", "numpy", 1_258_291, 10_485_760),
            "download: numpy (1.2 MB/10.0 MB, 11%)",
        ),
        (ProgressEvent("download", "scipy", "scipy", 512), "download: scipy (512 B)"),
        (ProgressEvent("solve", "resolving"), "solve: resolving"),
    ],
)
def test_progress_text(event: ProgressEvent, text: str) -> None:
    assert progress_text(event) == text


def test_progress_text_cuts_long_messages() -> None:
    text = progress_text(ProgressEvent("install", "x" * 300, done=1, total=2))
    assert text == "install: " + "x" * 99 + "…" + " (1/2)"


def test_uv_report_becomes_counted_events() -> None:
    seen: list[ProgressEvent] = []
    forward = Reporter(seen.append).uv_lines(total=2)
    assert forward is not None
    for line in ("Downloading numpy (15.8MiB)", " + numpy==2.1.3", " + six==1.17.0"):
        forward(line)
    assert [progress_text(e) for e in seen] == [
        "download: Downloading numpy (15.8MiB)",
        "install: + numpy==2.1.3 (1/2)",
        "install: + six==1.17.0 (2/2)",
    ]


def test_cli_status_line(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.StatusLine()
    status.clear()  # nothing drawn yet: nothing to clear
    status(ProgressEvent("solve", "resolving"))
    status(ProgressEvent("install", "+ numpy==2.1", "numpy", 3, 12))
    status.clear()
    err = capsys.readouterr().err
    assert err == "\r\x1b[Ksolve: resolving\r\x1b[Kinstall: + numpy==2.1 (3/12)\r\x1b[K"


def test_error_body_is_the_one_shape() -> None:
    assert error_body(EnvBusy("environment 'w' is busy", waited=2)) == {
        "code": "env_busy",
        "message": "environment 'w' is busy",
        "details": None,
        "waited": 2,
    }
    assert error_body(KeyboardInterrupt()) == {
        "code": "cancelled",
        "message": "interrupted; the environment was left unchanged",
        "details": None,
    }
    body = error_body(RuntimeError("boom\nsecond line"))
    assert body["code"] == "transaction_failed"
    assert body["message"] == "internal error: RuntimeError('boom\\nsecond line')"
    assert "\n" not in body["message"] and "Traceback" not in body["message"]


def test_error_lines_add_the_solvers_explanation() -> None:
    exc = Unsatisfiable("a and b cannot be installed together", details="a needs c<1\nb needs c>2")
    assert error_lines(exc) == [
        "a and b cannot be installed together",
        "  a needs c<1\n  b needs c>2",
    ]
    assert error_lines(UserPkgError("plain", details="more")) == ["plain"]


class BrokenService:
    def list_envs(self) -> list[object]:
        raise ValueError("disk on fire")


def test_guarded_dispatch_turns_every_failure_into_one_error() -> None:
    args = argparse.Namespace(verb="envs")
    outcome = guarded_dispatch(BrokenService(), args)  # type: ignore[arg-type]
    assert isinstance(outcome, TransactionFailed)
    assert outcome.message == "internal error: ValueError('disk on fire')"

    def no_config() -> object:
        raise TransactionFailed("cannot read the config")

    outcome = guarded_dispatch(no_config, args)  # type: ignore[arg-type]
    assert isinstance(outcome, TransactionFailed) and outcome.message == "cannot read the config"


def test_grammar_errors_are_bad_command_lines() -> None:
    with pytest.raises(BadCommandLine, match="update needs package names or --all"):
        parse_command(["update"])
    with pytest.raises(BadCommandLine, match="invalid choice"):
        parse_command(["frobnicate"], prog="%userpkg")
    args = parse_command(["create", "x", "--kind", "venv", "tabulate", "--no-kernel"])
    assert (args.name, args.kind, args.specs, args.kernel) == ("x", "venv", ("tabulate",), False)


def test_cli_json_error_is_the_error_body(capsys: pytest.CaptureFixture[str]) -> None:
    exc = EnvBusy("environment 'w' is busy")
    assert cli._fail(argparse.Namespace(json=True), exc) == 3
    assert json.loads(capsys.readouterr().out) == error_body(exc)


def test_a_verbs_own_parser_is_the_full_grammars() -> None:
    """A command line builds only its verb's parser: the same options, help and errors."""
    full = build_parser()
    verbs = next(a for a in full._actions if a.dest == "verb")
    assert tuple(verbs.choices) == VERBS  # type: ignore[arg-type]
    for verb in VERBS:
        alone = next(a for a in build_parser(only=verb)._actions if a.dest == "verb")
        assert list(alone.choices) == [verb]  # type: ignore[arg-type]
        assert alone.choices[verb].format_help() == verbs.choices[verb].format_help()  # type: ignore[index]
    with pytest.raises(BadCommandLine, match="invalid choice: 'docker'"):
        parse_command(["create", "x", "--kind", "docker"])


def test_kinds_lists_what_each_kind_can_do() -> None:
    """``kinds`` answers from the kinds' own members: a new kind shows up by itself."""
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_userpkg", "kinds", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    kinds = json.loads(proc.stdout)
    assert [k["name"] for k in kinds] == ["layer", "venv", "conda"]
    by_name = {k["name"]: k for k in kinds}
    assert by_name["layer"]["base"] and not by_name["layer"]["python_version"]
    assert by_name["conda"]["channels"] and not by_name["venv"]["channels"]
    assert all(k["pypi"] for k in kinds)
    text = subprocess.run(
        [sys.executable, "-m", "jupyter_userpkg", "kinds"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "conda" in text and "-c CHANNEL" in text and "(default)" in text
