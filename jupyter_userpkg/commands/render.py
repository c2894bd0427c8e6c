"""Text for a person: outcomes, errors and progress events, the same in every front end.

Every function returns a string (or lines); none writes anywhere.  The CLI
sends the text to a terminal, the magic to a cell (as the plain-text fallback
of its HTML), so the two read alike.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.errors import UserPkgError
    from ..core.events import ProgressEvent
    from ..core.provides import Provides
    from ..core.records import Change, EnvInfo, Package, Plan, Result, RevisionRecord
    from ..core.searchrecords import PackageInfo, SearchResult
    from .dispatch import Outcome

#: The longest message a status line shows; longer ones are cut with an ellipsis.
STATUS_WIDTH = 100
#: Versions ``info`` lists before it says how many there are in all.
INFO_VERSIONS = 12


def render_text(outcome: Outcome, prog: str = "jupyter userpkg") -> str:
    """An outcome as a person reads it, ready to write as is; commands it suggests
    start with ``prog`` (``%userpkg`` in a cell)."""
    verb, value, data = outcome.verb, outcome.value, outcome.data
    if verb in ("create", "install", "remove", "update", "rollback"):
        return _lines(result_lines(value))
    if verb == "envs":
        return _lines(env_lines(value, prog))
    if verb == "list":
        return _lines(package_lines(*value))
    if verb == "history":
        return _lines(history_lines(value))
    if verb == "export":
        return str(value) if value is not None else f"wrote {data['path']}\n"
    if verb == "delete":
        return _lines([f"deleted {value}", *(f"warning: {n}" for n in data.get("notes", ()))])
    if verb == "search":
        return _lines(search_lines(value))
    if verb == "info":
        return _lines(info_lines(value))
    if verb == "provides":
        return _lines(provides_lines(value, prog))
    if verb == "doctor":
        return _lines(doctor_lines(value))
    if verb == "policy":
        return _lines(policy_lines(value, prog))
    if verb == "kinds":
        return _lines(kind_lines(value))
    if verb == "mirror":
        from .mirrorverb import mirror_lines

        return _lines(mirror_lines(value))
    return ""  # pragma: no cover - the grammar knows no other verb


def error_lines(exc: UserPkgError) -> list[str]:
    """The message, then the solver's explanation when it says more than the message."""
    lines = [exc.message]
    says_more = exc.details and exc.details.strip() not in exc.message
    if says_more and exc.code == "unsatisfiable":
        lines.append(indent(str(exc.details)))
    return lines


def progress_text(event: ProgressEvent, width: int = STATUS_WIDTH) -> str:
    """One status line: ``install: + numpy==2.1 (3/12)``; bytes readable for downloads."""
    message = event.message if len(event.message) <= width else event.message[: width - 1] + "…"
    return f"{event.phase}: {message}{count_text(event)}"


def count_text(event: ProgressEvent) -> str:
    """`` (3/12)``, `` (3)``, `` (1.2 MB/10.0 MB, 12%)`` or nothing, as far as the engine
    knows (the percent of a download's known total)."""
    if event.done is None:
        return ""
    show = size if event.phase == "download" else str
    if event.total is None:
        return f" ({show(event.done)})"
    downloading = event.phase == "download" and event.total > 0
    percent = f", {100 * min(event.done, event.total) // event.total}%" if downloading else ""
    return f" ({show(event.done)}/{show(event.total)}{percent})"


def plan_text(plan: Plan) -> str:
    """A plan as shown before it is applied (also the confirmation prompt's text)."""
    lines = [f"Environment {plan.env!r}: {plan.command}"]
    if plan.empty:
        lines.append("  nothing to change")
    width = max((len(c.name) for c in plan.changes), default=0)
    layers = plan.layered
    for c in plan.changes:
        lines.append(f"  {change_text(c, width, layers)}")
    lines += [f"  note: {m}" for m in plan.messages]
    if plan.download_bytes:
        lines.append(f"  download: {size(plan.download_bytes)}")
    return "\n".join(lines)


def change_text(change: Change, width: int = 0, layers: bool = False) -> str:
    """``+ name 1.0``, ``~ name 1.0 -> 2.0`` or ``- name 1.0``; with the layer if asked."""
    mark = {"add": "+", "remove": "-", "change": "~"}[change.action]
    if layers:
        return f"{change_text(change, width)} ({change.source})"
    if change.action == "change":
        versions = f"{change.old} -> {change.new}"
    else:
        versions = str(change.new if change.action == "add" else change.old)
    return f"{mark} {change.name:<{width}}  {versions}"


def result_lines(result: Result) -> list[str]:
    lines = [plan_text(result.plan)]
    if result.applied and result.plan.empty:
        lines.append(
            f"Recorded the request as revision {result.revision}; no package had to change."
        )
    elif result.applied:
        lines.append(f"Done: revision {result.revision}.")
    elif not result.plan.empty:
        lines.append("Dry run: nothing was changed.")
    lines += [f"warning: {note}" for note in result.notes]
    return lines


def kind_lines(kinds: list[dict[str, Any]]) -> list[str]:
    """One line per kind: its name, what it is for, and what ``create`` takes for it."""
    width = max((len(str(k["name"])) for k in kinds), default=0)
    out = []
    for k in kinds:
        can = [flag for flag, key in _CAPABILITIES if k[key]]
        default = " (default)" if k["default"] else ""
        out.append(f"{k['name']:<{width}}  {k['summary']}{default}")
        out.append(f"{'':<{width}}  takes: {', '.join(can) or 'specs only'}")
    return out


#: What ``create`` takes, by the capability that makes it mean something.
_CAPABILITIES = (
    ("-c CHANNEL", "channels"),
    ("--python X.Y", "python_version"),
    ("PyPI specs", "pypi"),
)


def env_lines(envs: list[EnvInfo], prog: str = "jupyter userpkg") -> list[str]:
    if not envs:
        return [f"no environments yet; `{prog} install PKG` creates 'default'"]
    lines = [f"{'name':<20} {'kind':<6} {'python':<7} {'packages':>8} {'revision':>8}  path"]
    for e in envs:
        mark = "  shared (read-only)" if e.shared else (f"  over {e.over}" if e.over else "")
        lines.append(
            f"{e.name:<20} {e.kind:<6} {e.python:<7} {e.packages:>8} {e.revision:>8}  {e.path}"
            + mark
        )
        lines += [f"  note: {n}" for n in e.notes]
        if any(k["name"] != e.kernel for k in e.kernels):  # kernels of other languages too
            lines.append("  kernels: " + ", ".join(k["display_name"] for k in e.kernels))
    advised = [(e.name, a) for e in envs for a in e.advisories]
    if advised:
        lines.append("")
        lines += advisory_lines(advised, prog)
    return lines


def advisory_lines(advised: list[tuple[str, dict[str, Any]]], prog: str) -> list[str]:
    """``warning: env 'x' holds requests 2.30.0, blocked ...; fix: <prog> update ...``."""
    lines = []
    for env, a in advised:
        what = f"{a['package']} {a['version']}".strip()
        lines.append(f"warning: environment {env!r} holds {what}, {_because(a)}")
        lines.append(f"  fix: {prog} {a['fix']}")
    return lines


def _because(a: dict[str, Any]) -> str:
    text = f"blocked by the administrator's policy ({a['rule']})"
    if a.get("reason"):
        text += f": {a['reason']}"
    if a.get("advisory"):
        text += f" (advisory {a['advisory']})"
    return text


def policy_lines(value: dict[str, Any], prog: str) -> list[str]:
    """``policy``: each rule set and where it came from; ``policy --check``: violations."""
    if value.get("check"):
        found = value["violations"]
        if not found:
            return ["every environment complies with the policy"]
        lines = []
        for entry in found:
            where = f"environment {entry['env']!r}" if entry["env"] else "your environments"
            for v in entry["violations"]:
                what = f"{v['package']} {v['version']}".strip()
                lines.append(f"{where}: {what + ': ' if what else ''}{_because(v)}")
                lines.append(f"  fix: {prog} {v['fix']}")
        return lines
    policy, origins = value["policy"], value["origins"]
    if value.get("error"):
        lines = [f"the administrator's policy cannot be read: {value['error']}"]
        lines.append("nothing can be installed until it is fixed; reading environments works")
        lines.append("looked for in: " + ", ".join(value["sources"]))
        return lines
    if not origins:
        lines = ["no policy is set: every index, channel and package may be used"]
    else:
        lines = ["the administrator's policy:"]
        for name in sorted(origins):
            shown = policy[name]
            if isinstance(shown, list):
                shown = (
                    ", ".join(
                        " ".join(str(v) for v in item.values() if v)
                        if isinstance(item, dict)
                        else item
                        for item in shown
                    )
                    or "(none)"
                )
            lines.append(f"  {name}: {shown}")
            lines.append(f"    from {origins[name]}")
    lines.append("looked for in: " + ", ".join(value["sources"]))
    lines += [f"note: {n}" for n in value["notes"]]
    return lines


def package_lines(pkgs: list[Package], hidden: int = 0) -> list[str]:
    """The packages as a table; ``hidden`` base packages are counted, not listed."""
    width = max((len(p.name) for p in pkgs), default=4)
    lines = [f"{'name':<{width}}  {'version':<16} {'source':<6} requested"]
    for p in pkgs:
        requested = "yes" if p.requested else ""
        lines.append(f"{p.name:<{width}}  {p.version:<16} {p.source:<6} {requested}")
    if hidden:
        lines.append(
            f"... and {hidden} packages of the base environment (`list --base` shows them)"
        )
    return lines


def history_lines(revs: list[RevisionRecord]) -> list[str]:
    lines = []
    for r in revs:
        lines.append(f"rev {r.revision}  {r.time}  {r.command}")
        lines += [f"    {change_text(c)}" for c in r.changes]
    return lines


def doctor_lines(reports: list[dict[str, Any]]) -> list[str]:
    if not reports:
        return ["no environments"]
    lines = []
    for r in reports:
        lines.append(f"{r['env']}: {'ok' if r['ok'] else 'PROBLEMS'}")
        if r["recovered"]:
            lines.append(f"  {r['recovered']}")
        lines += [f"  - {problem}" for problem in r["problems"]]
    return lines


def search_lines(found: SearchResult, width: int | None = None) -> list[str]:
    """A table of hits (name, version, source, summary cut to ``width``), then the notes.

    Names are never cut: a name is what a user copies into ``install``.
    """
    width = width or shutil.get_terminal_size((STATUS_WIDTH, 24)).columns
    lines: list[str] = []
    if not found.results:
        lines.append(f"no package names match {found.query!r}")
    else:
        name_w = min(max(4, *(len(h.name) for h in found.results)), 40)
        ver_w = min(max(7, *(len(h.version or "") for h in found.results)), 20)
        head = f"{'name':<{name_w}}  {'version':<{ver_w}}  {'source':<6}"
        room = width - len(head) - 2
        lines.append(head + ("  summary" if room >= 12 else ""))
        for h in found.results:
            row = f"{h.name:<{name_w}}  {h.version or '-':<{ver_w}}  {h.source:<6}"
            summary = " ".join((h.summary or "").split())
            cut = width - len(row) - 2  # a name longer than the column leaves less room
            if summary and room >= 12 and cut >= 12:
                row += "  " + (summary if len(summary) <= cut else summary[: cut - 1] + "…")
            lines.append(row.rstrip())
        for h in found.results:
            if h.blocked:
                lines.append(f"{h.name} ({h.source}): {_because(h.blocked)}")
        mirrored = [h.name for h in found.results if h.mirror]
        if mirrored:
            which = "all of these" if len(mirrored) == len(found.results) else ", ".join(mirrored)
            lines.append(f"in the administrator's package mirror: {which}")
    if found.suggestions:
        lines.append(f"did you mean: {', '.join(found.suggestions)}?")
    lines += [f"note: {n}" for n in found.notes]
    return lines


def info_lines(pkg: PackageInfo) -> list[str]:
    """One package as a short block: what it is, its licence and home, its versions."""
    from ..core.pypi.index import index_label

    where = index_label(pkg.where) if pkg.source == "pypi" else f"conda: {pkg.where}"
    lines = [f"{pkg.name} {pkg.latest or ''}".rstrip() + f"  ({where})"]
    if pkg.summary:
        lines.append(f"  {pkg.summary}")
    fields = [
        ("licence", pkg.license),
        ("home page", pkg.home_page),
        ("requires Python", pkg.requires_python),
        ("subdir", pkg.subdir),
        ("depends", ", ".join(pkg.depends) if pkg.depends else None),
    ]
    refused = pkg.blocked_versions or {}
    shown = [f"{v} (blocked)" if v in refused else v for v in pkg.versions[:INFO_VERSIONS]]
    if len(pkg.versions) > INFO_VERSIONS:
        shown.append(f"... ({len(pkg.versions)} in all)")
    fields.append(("versions", ", ".join(shown) if shown else "none available"))
    label_w = max(len(label) for label, value in fields if value)
    lines += [f"  {label + ':':<{label_w + 2}}{value}" for label, value in fields if value]
    if pkg.blocked:
        lines.append(f"{pkg.name} is {_because(pkg.blocked)}")
    for version, verdict in refused.items():
        lines.append(f"{pkg.name} {version} is {_because(verdict)}")
    lines += [f"note: {n}" for n in pkg.notes]
    return lines


def provides_lines(found: Provides, prog: str = "jupyter userpkg") -> list[str]:
    """Who provides the module, why we know, and the command that opens the plan."""
    if not found.providers:
        lines = [f"no package known to provide {found.name!r}"]
        lines += [f"  {c.name}: {c.why}" for c in found.candidates if c.verdict != "absent"]
        lines.append(f"search for it: {prog} search {found.name}")
        return lines + [f"note: {n}" for n in found.notes if "no package known" not in n]
    best = found.providers[0]
    sure = "" if best.confidence == "verified" else f" ({best.confidence})"
    lines = [f"{found.name} is provided by {best.package} ({best.source}){sure}"]
    lines.append(f"  evidence: {best.evidence.text}")
    if best.blocked:
        lines.append(f"{best.package} is {_because(best.blocked)}")
    else:
        lines.append(f"  install: {found.install_line(prog)}")
    for other in found.providers[1:]:
        lines.append(f"  also: {other.package} ({other.source}): {other.evidence.text}")
    lines += [f"  not {c.name}: {c.why}" for c in found.candidates if c.verdict == "rejected"]
    return lines + [f"note: {n}" for n in found.notes]


def indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def size(n: int) -> str:
    """Bytes for a person: ``512 B``, ``1.2 MB``."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)
