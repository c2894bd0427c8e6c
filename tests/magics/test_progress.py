"""Progress events in a cell: the bridge's JSON lines, and how the cell draws them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import jupyter_userpkg
from jupyter_userpkg import magic
from jupyter_userpkg.commands.render import progress_text
from jupyter_userpkg.core.events import ProgressEvent
from jupyter_userpkg.core.pypi.uv import uv_bin
from jupyter_userpkg.magic import bridge
from jupyter_userpkg.magic.reply import Reply

EVENTS = [
    ProgressEvent("solve", "resolving"),
    ProgressEvent("download", "Downloading numpy (15.8MiB)", "numpy", 1_258_291, 16_567_500),
    ProgressEvent("install", "+ numpy==2.1.3", "numpy", 3, 12),
    ProgressEvent("remove", "- six==1.16.0", "six", 1),
    ProgressEvent("commit", "revision 4"),
]


def test_bridge_events_round_trip(capsys: pytest.CaptureFixture[str]) -> None:
    for event in EVENTS:
        bridge.send_event(event)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(EVENTS)
    for line, event in zip(lines, EVENTS, strict=True):
        assert ProgressEvent.from_dict(json.loads(line)) == event
        seen = magic.read_event(line + "\n")
        assert seen is not None
        assert (seen.phase, seen.message, seen.package, seen.done, seen.total) == (
            event.phase,
            event.message,
            event.package,
            event.done,
            event.total,
        )


@pytest.mark.parametrize(
    "line",
    [
        "Traceback (most recent call last):\n",
        "ModuleNotFoundError: No module named tomlkit\n",
        "[1, 2]\n",
        '{"message": "no phase"}\n',
    ],
)
def test_other_stderr_lines_are_not_events(line: str) -> None:
    assert magic.read_event(line) is None


def test_counts_that_are_not_integers_are_dropped() -> None:
    seen = magic.read_event('{"phase": "install", "message": "m", "done": true, "total": "12"}')
    assert seen is not None and seen.done is None and seen.total is None


@pytest.mark.parametrize("event", EVENTS)
def test_the_cell_and_the_terminal_say_the_same(event: ProgressEvent) -> None:
    assert magic.progress_text(event) == progress_text(event)
    long = ProgressEvent("install", "y" * 250, done=1, total=3)
    assert magic.progress_text(long) == progress_text(long)


def test_the_cell_draws_one_updated_line(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[dict[str, str]] = []

    class Handle:
        def update(self, bundle: dict[str, str], raw: bool) -> None:
            shown.append(bundle)

    def display(bundle: dict[str, str], **kwargs: Any) -> Handle:
        assert kwargs == {"display_id": True}
        shown.append(bundle)
        return Handle()

    monkeypatch.setattr(magic, "_display", display)
    progress = magic.Progress()
    progress(ProgressEvent("solve", "resolving"))
    progress(magic.read_event(json.dumps(EVENTS[2].to_dict())))
    progress.finish(None)
    assert [b["text/plain"] for b in shown] == [
        "userpkg: solve: resolving",
        "userpkg: install: + numpy==2.1.3 (3/12)",
        "",
    ]
    assert "<progress" not in shown[0]["text/html"]
    assert '<progress value="3" max="12"></progress>' in shown[1]["text/html"]


def test_bridge_backend_hands_events_to_the_cell(tmp_path: Path) -> None:
    """A stand-in for the server's Python that streams events as the bridge writes them."""
    lines = "".join(json.dumps(e.to_dict()) + "\n" for e in EVENTS)
    (tmp_path / "events.jsonl").write_text(lines + "a stray warning\n")
    reply = {"verb": "list", "data": [], "text": "listed\n", "stale": [], "result": False}
    (tmp_path / "reply.json").write_text(json.dumps(reply) + "\n")
    fake = tmp_path / "fake-python"
    fake.write_text(
        f"#!/bin/sh\ncat {tmp_path / 'events.jsonl'} >&2\ncat {tmp_path / 'reply.json'}\n"
    )
    fake.chmod(0o755)
    seen: list[Any] = []
    assert magic.BridgeBackend(str(fake), "x").run("list", seen.append) == Reply(
        verb="list", data=[], text="listed\n"
    )
    assert [magic.progress_text(e) for e in seen] == [progress_text(e) for e in EVENTS]


def test_the_front_and_the_bridge_load_without_the_core(tmp_path: Path) -> None:
    """A venv env's kernel has only ipykernel; the server's Python need not have IPython.

    Loaded the way such a kernel loads it: in a venv with no packages at all, the
    package reached through a directory that holds only a link to it.
    """
    bare = tmp_path / "bare"
    subprocess.run([uv_bin(), "venv", "-q", "--python", sys.executable, str(bare)], check=True)
    support = tmp_path / "support"
    support.mkdir()
    (support / "jupyter_userpkg").symlink_to(Path(jupyter_userpkg.__file__).parent)
    code = (
        "import sys, jupyter_userpkg.magic, jupyter_userpkg.magic.stale\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('jupyter_userpkg.core.service', "
        "'jupyter_userpkg.commands.dispatch', 'jupyter_userpkg.cli', 'jupyter_userpkg.server', "
        "'IPython', 'traitlets', 'packaging', 'tomlkit')))\n"
        "assert not bad, bad\n"
        'event = jupyter_userpkg.magic.read_event(\'{"phase": "solve", "message": "m"}\')\n'
        "assert jupyter_userpkg.magic.progress_text(event) == 'solve: m'\n"
        "import jupyter_userpkg.magic.bridge\n"
        "assert 'IPython' not in sys.modules\n"
        "assert 'jupyter_userpkg.core.service' not in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": str(support), "PYTHONNOUSERSITE": "1"}
    proc = subprocess.run(
        [str(bare / "bin" / "python"), "-c", code], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_the_real_bridge_streams_structured_events(tmp_path: Path) -> None:
    """The server's Python runs a line: events on stderr, the reply last on stdout."""
    env = dict(
        os.environ,
        JUPYTER_USERPKG_ENVS_DIR=str(tmp_path / "envs"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
    )
    line = "create w --kind venv --no-kernel tabulate"
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_userpkg.magic.bridge", line, ""],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stderr.splitlines()]
    keys = {"phase", "message", "package", "done", "total"}
    assert events and all(set(e) == keys for e in events)
    assert events[0] == ProgressEvent("create", "creating venv environment 'w'").to_dict()
    assert events[-1]["phase"] == "commit"
    assert all(magic.read_event(raw) is not None for raw in proc.stderr.splitlines())
    reply = json.loads(proc.stdout.strip().splitlines()[-1])
    assert reply["result"] is True and reply["data"]["applied"] is True
    assert [c["name"] for c in reply["data"]["plan"]["changes"]] == ["tabulate"]
    assert (tmp_path / "envs" / "w").is_dir()


def test_a_reply_crosses_the_pipe_as_it_was_made() -> None:
    """The bridge's JSON line reads back as the same typed reply; a line of another
    shape is refused, so the cell says the command could not run instead of drawing it."""
    made = Reply(
        verb="install",
        text="installed\n",
        data={"applied": True, "plan": {"env": "x", "changes": [{"name": "six"}]}},
        result=True,
        stale=("six",),
    )
    back = Reply.from_json(made.to_json())
    assert back == made
    assert back.applied and back.changed_env == "x" and back.changes == [{"name": "six"}]
    assert Reply.failed("no", "because").error == ("no", "because")
    for forged in ('["not", "an", "object"]', '{"error": "one string"}', '{"stale": [1]}'):
        with pytest.raises(ValueError):
            Reply.from_json(forged)
    assert not Reply(verb="list", data={"applied": True}).applied  # not a change's result
