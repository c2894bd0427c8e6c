"""The CLI on a real terminal (a pty): the confirmation prompt, ``-y``, a declined prompt,
Ctrl-C while solving and while installing, and their exit statuses (user guide)."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CLI, env_state, installed
from tests.localindex import LocalIndex, build_wheel

PROMPT = b"Proceed ([y]/n)?"


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LocalIndex]:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "alpha", "1.0")
    build_wheel(wheels, "heavy", "1.0", padding=4 << 20)  # 64 chunks: slow when asked to be
    with LocalIndex(wheels) as served:
        yield served


@pytest.fixture
def term_cli(cli: CLI, index: LocalIndex, tmp_path: Path) -> CLI:
    """The CLI, installing from the local index into a uv cache of its own."""
    config = cli.home / "config" / "jupyter_userpkg_config.json"
    settings = json.loads(config.read_text())
    settings["UserPkg"].update(default_index=index.url, uv_cache_dir=str(tmp_path / "uv-cache"))
    config.write_text(json.dumps(settings))
    cli("create", "t", "--kind", "venv", "--no-kernel")
    return cli


@dataclass
class Session:
    code: int
    output: str
    interrupted: bool = False


def on_a_terminal(
    cli: CLI, args: list[str], *, answer: str | None = None, interrupt_at: bytes | None = None
) -> Session:
    """Run the CLI with a pty as stdin, stdout and stderr.

    ``answer`` is typed as is when the prompt appears (a line ends with its newline);
    SIGINT goes to the CLI's process when ``interrupt_at`` appears in what it wrote (a
    progress line), as Ctrl-C would.
    """
    main, tty = pty.openpty()
    proc = subprocess.Popen(
        cli.argv(*args), env=cli.env(), stdin=tty, stdout=tty, stderr=tty, close_fds=True
    )
    os.close(tty)
    seen, answered, interrupted = b"", False, False
    try:
        while True:
            ready, _, _ = select.select([main], [], [], 600)
            assert ready, f"the command wrote nothing for 600 s: {seen!r}"
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the child closed the terminal: it is done
                break
            if not chunk:
                break
            seen += chunk
            if answer is not None and not answered and PROMPT in seen:
                os.write(main, answer.encode())
                answered = True
            if interrupt_at is not None and not interrupted and interrupt_at in seen:
                proc.send_signal(signal.SIGINT)
                interrupted = True
    finally:
        os.close(main)
    return Session(proc.wait(timeout=600), seen.decode(errors="replace"), interrupted)


def _revisions(cli: CLI, env: str) -> list[int]:
    return [r["revision"] for r in cli.json("history", "-n", env)]  # type: ignore[union-attr, index]


def test_a_terminal_is_asked_and_enter_means_yes(term_cli: CLI) -> None:
    run = on_a_terminal(term_cli, ["install", "-n", "t", "alpha"], answer="\n")
    assert PROMPT.decode() in run.output and "+ alpha" in run.output
    assert run.code == 0 and "Done: revision 1." in run.output, run.output
    assert installed(term_cli.envs_dir, "t") == {"alpha": "1.0"}


@pytest.mark.parametrize("answer", ["n\n", "no\n", "whatever\n", "\x04"])  # \x04: Ctrl-D
def test_a_declined_prompt_changes_nothing_and_exits_1(term_cli: CLI, answer: str) -> None:
    before = env_state(term_cli.envs_dir, "t")
    run = on_a_terminal(term_cli, ["install", "-n", "t", "alpha"], answer=answer)
    assert PROMPT.decode() in run.output
    assert run.code == 1, run.output
    assert "jupyter userpkg: error: cancelled; nothing was changed" in run.output
    assert env_state(term_cli.envs_dir, "t") == before
    assert _revisions(term_cli, "t") == [0]


def test_yes_applies_without_asking_on_a_terminal(term_cli: CLI) -> None:
    run = on_a_terminal(term_cli, ["install", "-n", "t", "alpha", "-y"], answer="n\n")
    assert run.code == 0 and "Done: revision 1." in run.output, run.output
    assert "Proceed" not in run.output
    assert installed(term_cli.envs_dir, "t") == {"alpha": "1.0"}


def test_json_and_create_never_ask_on_a_terminal(term_cli: CLI) -> None:
    run = on_a_terminal(term_cli, ["install", "-n", "t", "alpha", "--json"], answer="n\n")
    assert run.code == 0 and "Proceed" not in run.output, run.output
    assert installed(term_cli.envs_dir, "t") == {"alpha": "1.0"}
    run = on_a_terminal(term_cli, ["create", "c", "--kind", "venv", "--no-kernel", "alpha"])
    assert run.code == 0 and "Proceed" not in run.output, run.output
    assert installed(term_cli.envs_dir, "c") == {"alpha": "1.0"}


def test_without_a_terminal_nothing_is_asked(term_cli: CLI) -> None:
    proc = term_cli("install", "-n", "t", "alpha")  # stdin is not a terminal
    assert "Proceed" not in proc.stdout + proc.stderr
    assert installed(term_cli.envs_dir, "t") == {"alpha": "1.0"}


@pytest.mark.parametrize("phase", [b"solve: ", b"install: "])
def test_ctrl_c_while_solving_or_installing_leaves_the_env_and_exits_130(
    term_cli: CLI, index: LocalIndex, phase: bytes
) -> None:
    term_cli("install", "-n", "t", "alpha", "-y")
    before = env_state(term_cli.envs_dir, "t")
    # heavy's wheel comes slowly: uv downloads it to solve (the index serves no separate
    # metadata) and again to install, so the signal lands while that phase is running.
    index.slow = 0.1
    run = on_a_terminal(term_cli, ["install", "-n", "t", "heavy", "-y"], interrupt_at=phase)
    assert run.interrupted, run.output
    assert run.code == 130, run.output
    assert "jupyter userpkg: error: interrupted; the environment was left unchanged" in run.output
    if phase == b"solve: ":  # stopped before anything was planned
        assert "install: " not in run.output
    else:  # the journal was armed and uv was installing: the journal undid it
        assert "install: 1 to add" in run.output
    assert env_state(term_cli.envs_dir, "t") == before
    assert _revisions(term_cli, "t") == [0, 1]
    assert not (term_cli.envs_dir / "t" / ".userpkg" / "txn").exists()
