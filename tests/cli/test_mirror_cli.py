"""The administrator's mirror from a terminal: a package it lacks is one line that says
so and how to ask for it (``--json``: code ``not_in_mirror``), and search answers from
the mirror's search index, saying which hits the mirror holds.  The real CLI in a
subprocess, the policy in the administrator's dir, real uv on a local index."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from jupyter_userpkg.core.mirror.searchindex import FILENAME, Entry, render
from tests.conda_channel import TestChannel
from tests.conftest import CLI
from tests.localindex import LocalIndex, build_wheel
from tests.searchindex import Project, SearchIndex

HELP = "ask for it at https://help.example.org/packages"


def test_a_package_the_mirror_lacks_and_a_search_of_the_mirror(
    cli: CLI, tmp_path: Path, admin_policy: Callable[..., Path]
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "mirrcli", "1.0")
    index_file = tmp_path / "mirror" / FILENAME
    index_file.parent.mkdir()
    index_file.write_text(render([Entry("mirrcli", "pypi", "mirrcli", ("1.0",), "In it")]))
    with LocalIndex(wheels) as index:
        admin_policy(
            {
                "indexes": [index.url],
                "mirror": True,
                "mirror_request_help": HELP,
                "search_index": str(index_file),
            }
        )
        cli("create", "p", "--kind", "venv", "--no-kernel", "-y")
        refused = cli("install", "-n", "p", "mirrnone", "-y", check=False)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert refused.stderr.count("\n") == 1
        assert "mirrnone is not in the administrator's package mirror" in refused.stderr
        assert refused.stderr.rstrip().endswith(HELP)
        as_json = json.loads(cli("install", "-n", "p", "mirrnone==2", "--json", check=False).stdout)
        assert as_json["code"] == "not_in_mirror" and as_json["packages"] == ["mirrnone"]
        assert as_json["help"] == HELP
        found = cli("search", "mirr", "--pypi").stdout
        assert found.splitlines()[1].split()[:3] == ["mirrcli", "1.0", "pypi"]
        assert "in the administrator's package mirror: all of these" in found
        hits = cli.json("search", "mirrcli", "--pypi")["results"]  # type: ignore[index]
        assert [(h["name"], h["in_mirror"]) for h in hits] == [("mirrcli", True)]
    log = [json.loads(line) for line in (cli.envs_dir / ".audit.jsonl").read_text().splitlines()]
    assert [(r["command"], r["code"]) for r in log if r.get("refused")] == [
        ("install mirrnone", "not_in_mirror"),
        ("install mirrnone==2", "not_in_mirror"),
    ]


def test_an_administrator_seeds_a_node_wide_index_that_search_reads(
    cli: CLI, tmp_path: Path, admin_policy: Callable[..., Path], conda_channel: TestChannel
) -> None:
    upstream = SearchIndex([Project("seeded-one", "x"), Project("Seeded_Two", "y")])
    try:
        output = tmp_path / "node" / FILENAME
        output.parent.mkdir()
        seed = [sys.executable, "-m", "jupyter_userpkg.commands.seedindex"]
        made = subprocess.run(
            [
                *seed,
                "--output",
                str(output),
                "--index",
                upstream.url,
                "--channel",
                conda_channel.url,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert made.returncode == 0, made.stderr
        assert stat.S_IMODE(output.stat().st_mode) == 0o644
        admin_policy({"indexes": [upstream.url], "search_index": str(output)})
        asked = len(upstream.requests)
        hits = cli.json("search", "seeded", "--pypi")["results"]  # type: ignore[index]
        assert [(h["name"], h["in_mirror"]) for h in hits] == [
            ("seeded-one", None),
            ("Seeded_Two", None),
        ]
        conda = cli.json("search", "libfoo", "--conda")["results"]  # type: ignore[index]
        assert [h["name"] for h in conda] == ["libfoo"]
        assert len(upstream.requests) == asked  # the servers ask the index nothing
    finally:
        upstream.stop()
    bad = subprocess.run(
        [*seed, "--output", str(tmp_path / "no" / "dir" / FILENAME), "--index", upstream.url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 1 and bad.stderr.startswith("seedindex: error:")
    assert "Traceback" not in bad.stderr
