"""``mirror plan|sync --config FILE``: the administrator's verb for the filtered mirror.

The CLI is its only front end (the REST API and the panel do not expose it): it
needs no user's service, only the mirror's configuration file.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.events import ProgressFn
    from .verbs import Mirror

#: Lines of each section ``mirror plan`` shows before it says how many more there are.
SHOWN = 40


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "mirror",
        parents=[common],
        help="(administrators) the filtered mirror: plan or sync it from a config file",
    )
    p.add_argument(
        "action", choices=["plan", "sync"], help="plan: show, change nothing; sync: build"
    )
    p.add_argument("--config", required=True, metavar="FILE", help="the mirror's TOML config")
    p.add_argument(
        "--prune",
        action="store_true",
        help="remove what no longer belongs once its grace period (grace_days) is over",
    )


def run_mirror(args: Mirror, progress: ProgressFn | None = None) -> tuple[Any, Any]:
    """(JSON-able data, value to render) of ``mirror plan`` or ``mirror sync``."""
    from ..core.mirror.config import load_config
    from ..core.mirror.plan import build_plan
    from ..core.mirror.sync import sync

    config = load_config(Path(args.config))
    if args.action == "plan":
        from ..core.mirror.asks import refused_requests
        from ..core.mirror.engines import admin_audit_log

        plan = build_plan(config, prune=args.prune).plan
        data = {"action": "plan", "output": str(config.output), **plan.to_dict()}
        asks, notes = refused_requests(config, admin_audit_log())
        data["requests_refused"] = [a.to_dict() for a in asks]
        data["notes"] = [*data["notes"], *notes]
        return data, data
    result = sync(config, prune=args.prune, progress=progress)
    data = {"action": "sync", "output": str(config.output), **result.to_dict()}
    return data, data


def _need(n: dict[str, str]) -> str:
    return f"seed {n['seed']}" if "seed" in n else f"{n['user']}/{n['env']}"


def _who(d: dict[str, Any]) -> str:
    needs = [_need(n) for n in d.get("needed_by", [])]
    return ", ".join(needs[:3]) + (f" and {len(needs) - 3} more" if len(needs) > 3 else "")


def _what(d: dict[str, Any]) -> str:
    where = f" ({d['channel']}/{d['subdir']})" if d.get("source") == "conda" else ""
    return f"{d['source']} {d['name']} {d['version']}{where}"


def _section(title: str, rows: list[str]) -> list[str]:
    if not rows:
        return []
    lines = [f"{title} ({len(rows)}):", *(f"  {r}" for r in rows[:SHOWN])]
    if len(rows) > SHOWN:
        lines.append(f"  ... and {len(rows) - SHOWN} more (--json lists all)")
    return lines


def plan_lines(data: dict[str, Any]) -> list[str]:
    head = f"mirror {data['output']}" + (" (first sync)" if data.get("first_sync") else "")
    lines = [head]
    lines += _section(
        "add",
        [
            f"{_what(d)}: {d['evidence']}; for {_who(d)} via {' > '.join(d['path'])}"
            for d in data["add"]
        ],
    )
    lines.append(f"keep ({len(data['keep'])})")
    lines += _section(
        "remove",
        [
            f"{r['key']}: {r.get('rule', '')} (left {r['since'][:10]}; "
            + ("removed now" if r["removed"] else f"served until {r['after'][:10]}")
            + ")"
            for r in data["remove"]
        ],
    )
    lines += _section(
        "asked for, refused",
        [f"{_what(d)}: {d['rule']}: {d['evidence']}; asked by {_who(d)}" for d in data["refused"]],
    )
    lines += _section(
        "requests users made and were refused (audit logs)",
        [
            f"{a['user']}/{a['env']}: {a['command']}"
            + (f" ({a['times']} times, last {a['last']})" if a["times"] > 1 else f" ({a['last']})")
            + f": {a['code']}: {a['reason']}"
            for a in data.get("requests_refused", [])
        ],
    )
    lines += _section(
        "users' envs this would break",
        [
            f"{b['user']}/{b['env']}: {b['name']} {b['version']} ({b['why']})"
            for b in data["broken"]
        ],
    )
    lines += _section("notes", list(data["notes"]))
    return lines


def sync_lines(data: dict[str, Any]) -> list[str]:
    plan = data["plan"]
    removed = sum(1 for r in plan["remove"] if r["removed"])
    lines = [
        f"added {len(plan['add'])}, kept {len(plan['keep'])}, removed {removed}, "
        f"held in their grace period {len(plan['remove']) - removed}, "
        f"refused {len(plan['refused'])} (`mirror plan` lists them)"
    ]
    lines += _section(
        "users' envs this breaks",
        [
            f"{b['user']}/{b['env']}: {b['name']} {b['version']} ({b['why']})"
            for b in plan["broken"]
        ],
    )
    lines += _section("notes", list(plan["notes"]))
    counts = data["counts"]
    mb = data["bytes"] / 1e6
    got = f"downloaded {data['downloaded']} files ({data['downloaded_bytes'] / 1e6:.1f} MB)"
    if data["published"]:
        head = (
            f"published {data['output']}/{data['snapshot']} as current: "
            f"{counts.get('pypi_versions', 0)} PyPI versions, {counts.get('conda_files', 0)} "
            f"conda files, {mb:.1f} MB; {got} in {data['seconds']:.1f} s"
        )
    else:
        head = f"up to date: {data['output']}/current is {data['snapshot']}; {got}"
    lines = [head, *lines]
    lines += [f"pruned {p}" for p in data.get("pruned", [])]
    return lines


def mirror_lines(data: dict[str, Any]) -> list[str]:
    return plan_lines(data) if data["action"] == "plan" else sync_lines(data)
