"""Start-up cost of the CLI: whole processes against the floor they cannot go below.

Short commands are dominated by start-up, not by their own work, so they are
measured as whole processes (wall clock from spawn to exit) and compared with
the cheapest process that could do the same job:

1. ``jupyter-userpkg envs`` with one env, against the floor of any command that
   reads Jupyter configuration: ``python -c "import traitlets.config,
   jupyter_core.paths"`` with the same interpreter.  Also ``jupyter userpkg envs``
   (``jupyter`` looks the subcommand up and starts a second process) and
   ``jupyter-userpkg --help`` (argument parsing only).  Target: ``envs`` <= 1.3x
   the floor.
2. A conda dry-run plan through the CLI, ``jupyter-userpkg install -n c2018
   --dry-run "python 3.6.*" numpy scipy pandas``, on the real 2018 repodata
   (``../shared/data/repodata-2018/defaults-2018`` as a ``file://`` channel)
   against a bare ``rattler.solve`` of the same channel and specs in a
   ``python -c`` process of its own (own gateway and repodata cache dir,
   detected virtual packages, linux-64 + noarch, ending with ``os._exit``).
   Both sides are warmed up first; for a ``file://`` channel rattler reads the
   channel's ``repodata.json`` in place and writes no cache of it, so "warm"
   means the operating system's page cache.
   The solve itself takes milliseconds (see ``bench_conda.py``); what is left is
   start-up.  Target: ours <= 1.6x bare.

Everything runs in a temporary, isolated setup (own Jupyter data and config
dirs, envs dir, repodata, package and uv caches); every command is warmed up
untimed first, then all of them run ``--runs`` times interleaved, so machine
noise hits every side alike.  Medians, min and max; ratios of medians.  A
dry run whose output shows no solved packages stops the script with an error
(a benchmark of an error is worthless).

``--tree PATH`` runs the ``jupyter_userpkg`` code of another source tree (a
checkout of an older revision) by setting ``PYTHONPATH=PATH`` for every process,
so the same script measures before and after.  Every process runs in the
temporary dir: ``python -c`` puts its working directory first on ``sys.path``,
which would shadow ``PYTHONPATH`` when started from a checkout.

    python benchmarks/bench_startup.py [--runs 10] [--tree PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: Real 2018 conda repodata, beside the checkout (``../shared``); JUPYTER_USERPKG_REPODATA_2018
#: points elsewhere.
DATA = Path(
    os.environ.get("JUPYTER_USERPKG_REPODATA_2018")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "repodata-2018"
)
CHANNEL = (DATA / "defaults-2018").as_uri()
SPECS = ["python 3.6.*", "numpy", "scipy", "pandas"]
FLOOR_CODE = "import traitlets.config, jupyter_core.paths"
BARE_SOLVE_CODE = """\
import asyncio, os, sys
import rattler
gateway = rattler.Gateway(cache_dir=sys.argv[1])
virtual = rattler.VirtualPackage.detect(rattler.VirtualPackageOverrides.from_env())
records = asyncio.run(rattler.solve([sys.argv[2]], sys.argv[3:], gateway=gateway,
    platforms=["linux-64", "noarch"], virtual_packages=virtual))
print(len(records))
sys.stdout.flush()
os._exit(0)
"""
#: A package line of a plan: "  + numpy   1.15.0 (conda)".
PLAN_LINE = re.compile(r"^\s+\+\s+\S+\s+\S+")


@dataclass
class Command:
    label: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    check: Callable[[subprocess.CompletedProcess[str]], str | None]
    times: list[float] = field(default_factory=list)

    def run(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv, env=self.env, cwd=self.cwd, capture_output=True, text=True)

    def checked_run(self) -> float:
        start = time.perf_counter()
        proc = self.run()
        took = time.perf_counter() - start
        problem = f"exit status {proc.returncode}" if proc.returncode != 0 else self.check(proc)
        if problem:
            raise SystemExit(
                f"benchmark step failed ({problem}): {' '.join(self.argv)}\n"
                f"--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}"
            )
        return took


def ok(_: subprocess.CompletedProcess[str]) -> str | None:
    return None


def lists_env(name: str) -> Callable[[subprocess.CompletedProcess[str]], str | None]:
    def check(proc: subprocess.CompletedProcess[str]) -> str | None:
        names = [line.split()[0] for line in proc.stdout.splitlines()[1:] if line.strip()]
        return None if names == [name] else f"expected exactly one env {name!r}, got {names}"

    return check


def plan_size(text: str) -> int:
    return sum(1 for line in text.splitlines() if PLAN_LINE.match(line))


def solved_plan(proc: subprocess.CompletedProcess[str]) -> str | None:
    if plan_size(proc.stdout) == 0 or "Dry run" not in proc.stdout:
        return "the dry run shows no solved plan"
    return None


def solved_records(proc: subprocess.CompletedProcess[str]) -> str | None:
    lines = proc.stdout.split()
    if not lines or not lines[-1].isdigit() or int(lines[-1]) == 0:
        return "bare rattler.solve returned no records"
    return None


def setup_env(work: Path, tree: str | None, bindir: Path) -> dict[str, str]:
    """Environment variables of an isolated setup under ``work``."""
    config = work / "config"
    config.mkdir(parents=True)
    settings = {
        "UserPkg": {
            "repodata_cache_dir": str(work / "repodata"),
            "conda_pkgs_dir": str(work / "conda-pkgs"),
            "uv_cache_dir": str(work / "uv-cache"),
            "kernels_dir": str(work / "kernels"),
            "default_channels": [CHANNEL],
            "channel_alias": (work / "no-channels").as_uri() + "/",
            "offline": False,
        }
    }
    (config / "jupyter_userpkg_config.json").write_text(json.dumps(settings, indent=1))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER", "UV_", "CONDA_", "PIP_"))
        and k not in ("VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE", "PYTHONSTARTUP")
    }
    env.update(
        {
            "PATH": f"{bindir}{os.pathsep}{env.get('PATH', '')}",
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_DATA_DIR": str(work / "data"),
            "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
            "JUPYTER_PREFER_ENV_PATH": "0",
            "XDG_CACHE_HOME": str(work / "cache"),
            "UV_CACHE_DIR": str(work / "uv-cache"),
        }
    )
    if tree:
        env["PYTHONPATH"] = tree
    return env


def code_under_test(python: str, env: dict[str, str], cwd: Path) -> str:
    proc = subprocess.run(
        [python, "-c", "import jupyter_userpkg as m; print(m.__file__)"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"cannot import jupyter_userpkg:\n{proc.stderr}")
    return str(Path(proc.stdout.strip()).parent.parent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--tree", help="source tree whose jupyter_userpkg to run (PYTHONPATH for every process)"
    )
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    python, cli, jupyter = (str(bindir / n) for n in ("python", "jupyter-userpkg", "jupyter"))
    for exe in (cli, jupyter):
        if not os.access(exe, os.X_OK):
            raise SystemExit(f"{exe} not found: run this script with the project venv's python")
    tree = str(Path(args.tree).resolve()) if args.tree else None
    work = Path(tempfile.mkdtemp(prefix="userpkg-bench-startup-"))
    try:
        env = setup_env(work, tree, bindir)
        one = {**env, "JUPYTER_USERPKG_ENVS_DIR": str(work / "envs-one")}
        conda = {**env, "JUPYTER_USERPKG_ENVS_DIR": str(work / "envs-conda")}
        print(f"code under test: {code_under_test(python, env, work)}", flush=True)
        setup = [
            Command(
                "create one", [cli, "create", "one", "--kind", "venv", "--no-kernel"], one, work, ok
            ),
            Command(
                "create c2018",
                [cli, "create", "c2018", "--kind", "conda", "--no-kernel", "-c", CHANNEL],
                conda,
                work,
                ok,
            ),
        ]
        for command in setup:
            command.checked_run()

        floor = Command("floor", [python, "-c", FLOOR_CODE], env, work, ok)
        envs = Command("jupyter-userpkg envs", [cli, "envs"], one, work, lists_env("one"))
        via_jupyter = Command("jupyter userpkg envs", [jupyter, "userpkg", "envs"], one, work, ok)
        helptext = Command("jupyter-userpkg --help", [cli, "--help"], one, work, ok)
        bare = Command(
            "bare rattler.solve",
            [python, "-c", BARE_SOLVE_CODE, str(work / "bare-repodata"), CHANNEL, *SPECS],
            env,
            work,
            solved_records,
        )
        dry_run = Command(
            "jupyter-userpkg install --dry-run",
            [cli, "install", "-n", "c2018", "--dry-run", *SPECS],
            conda,
            work,
            solved_plan,
        )
        commands = [floor, envs, via_jupyter, helptext, bare, dry_run]
        for command in commands:  # warm-up, untimed: bytecode, page cache, repodata caches
            command.checked_run()
            command.checked_run()
        n_bare = int(bare.run().stdout.split()[-1])
        n_ours = plan_size(dry_run.run().stdout)
        print(f"{args.runs} runs each, interleaved; whole processes, wall clock", flush=True)
        for i in range(args.runs):
            shift = i % len(commands)  # rotate the order: no command always runs first
            for command in commands[shift:] + commands[:shift]:
                command.times.append(command.checked_run())

        rows = [
            (f'floor: `python -c "{FLOOR_CODE}"`', floor, None, "baseline"),
            ("`jupyter-userpkg envs` (one env)", envs, floor, "<= 1.3x the floor"),
            ("`jupyter userpkg envs` (one env)", via_jupyter, floor, ""),
            ("`jupyter-userpkg --help`", helptext, floor, ""),
            (f"bare `rattler.solve`, own process ({n_bare} packages)", bare, None, "baseline"),
            (
                f"`jupyter-userpkg install --dry-run` conda plan ({n_ours} packages)",
                dry_run,
                bare,
                "<= 1.6x bare",
            ),
        ]
        print()
        head = f"start-up, whole processes ({args.runs} runs)"
        print(f"| {head} | median | min | max | ratio | target |")
        print("| --- | --- | --- | --- | --- | --- |")
        for label, command, base, target in rows:
            med = statistics.median(command.times)
            ratio = "" if base is None else f"{med / statistics.median(base.times):.2f}x"
            print(
                f"| {label} | {med:.3f} s | {min(command.times):.3f} s"
                f" | {max(command.times):.3f} s | {ratio} | {target} |"
            )
        specs = " ".join(SPECS)
        print(f"\nconda plan: {specs} on {CHANNEL}")
        if n_bare != n_ours:
            print(f"note: bare rattler solved {n_bare} packages, the CLI's plan shows {n_ours}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
