"""The PyPI part of the closure: each group's requests solved by uv for every
Python x platform, the newest ``keep_latest`` allowed versions of every requested
name (each with its own closure), and every version users' locks hold.

uv solves against the upstream with the policy's exclusions: a version the policy
refuses is excluded (``name!=version``) and the solve repeated, so the solver picks
the newest allowed one, as the pipeline does for a user's install.
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from .config import MirrorConfig
from .engines import Policy, UserPkgError, normalize, run, uv_bin
from .judge import Judgement, PypiJudge
from .records import Decision, Group, Need
from .solvecache import SolveCache
from .upstream import Upstream

MAX_ROUNDS = 32
#: uv solves run side by side (each is mostly a process start and loopback reads).
WORKERS = 4


@dataclass(frozen=True)
class Target:
    python: str
    platform: str

    def __str__(self) -> str:
        return f"Python {self.python} on {self.platform}"


class SolveFailed(UserPkgError):
    code = "unsatisfiable"


@dataclass
class Found:
    """Decisions gathered so far, merged by key (needs unite, the first path stays)."""

    by_key: dict[str, Decision] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, decision: Decision) -> None:
        old = self.by_key.get(decision.key)
        if old is None:
            self.by_key[decision.key] = decision
            return
        needs = tuple(sorted(set(old.needed_by) | set(decision.needed_by)))
        keep = old if old.decision == "out" or decision.decision == "in" else decision
        self.by_key[decision.key] = replace(keep, needed_by=needs)


Job = tuple[list[str], Target, tuple[Need, ...]]
Solution = tuple[dict[str, str], dict[str, list[str]]]


def pypi_closure(
    config: MirrorConfig,
    policy: Policy,
    groups: Iterable[Group],
    found: Found,
    upstream: Upstream,
    cache: SolveCache,
) -> None:
    """Each group solved per target (a seed file's lines together, else one by one), then
    the newest ``keep_latest`` allowed versions of each requested name: those a solution
    already holds with every package at its newest allowed version are not solved again
    (alone they would resolve the same), the others each with its own closure."""
    judge = PypiJudge(policy, upstream)
    targets = [Target(py, pl) for py in config.pypi.python for pl in config.pypi.platforms]
    groups = list(groups)
    requested: dict[str, set[Need]] = {}
    for group in groups:
        _locked(group, judge, found)
        for text in group.pypi:
            requested.setdefault(_name(text), set()).add(group.need)
    upstream.prefetch([*requested, *cache.names()])
    with tempfile.TemporaryDirectory(prefix="userpkg-mirror-uv-") as tmp:
        solver = _Solver(config, policy, judge, Path(tmp), cache)
        jobs: list[Job] = [(list(g.pypi), t, (g.need,)) for g in groups if g.pypi for t in targets]
        solved = solver.run(jobs, found, quiet=lambda job: bool(job[2][0].seed))
        retry: list[Job] = []
        for job, pins in zip(jobs, solved, strict=True):
            if pins is None and job[2][0].seed and len(job[0]) > 1:  # each line on its own
                retry += [([r], job[1], job[2]) for r in job[0]]
            elif pins is None and job[2][0].seed:
                found.notes.extend(solver.failed.get(id(job), []))
        solved += solver.run(retry, found)
        covered = _covered(jobs + retry, solved, upstream, judge)
        latest: list[Job] = []
        for name, needs in sorted(requested.items()):
            who = tuple(sorted(needs))
            for version in _latest(config, upstream, judge, name, who, found):
                for t in targets:
                    if (name, version, t) in covered:
                        for d in covered[(name, version, t)]:
                            found.add(replace(d, needed_by=who))
                    else:
                        latest.append(([f"{name}=={version}"], t, who))
        solver.run(latest, found)


def _covered(
    jobs: list[Job], solved: list[Solution | None], upstream: Upstream, judge: PypiJudge
) -> dict[tuple[str, str, Target], list[Decision]]:
    """(name, version, target) whose own closure a solution already holds: one where every
    package is at its newest allowed final version (the closure of one of them alone
    then resolves to the same versions), with that closure's decisions."""
    out: dict[tuple[str, str, Target], list[Decision]] = {}
    for (_, target, _), solution in zip(jobs, solved, strict=True):
        if solution is None:
            continue
        pins, parents = solution
        if any(_newest(upstream, judge, n) != v for n, v in pins.items()):
            continue
        children: dict[str, list[str]] = {}
        for child, ps in parents.items():
            for parent in ps:
                children.setdefault(parent, []).append(child)
        for name, version in pins.items():
            paths: dict[str, tuple[str, ...]] = {name: (name,)}
            queue = [name]
            while queue:
                here = queue.pop(0)
                for child in children.get(here, ()):
                    if child not in paths:
                        paths[child] = (*paths[here], child)
                        queue.append(child)
            why = {n: "keep_latest" if n == name else "dependency" for n in paths}
            out[(name, version, target)] = [
                Decision("pypi", n, pins[n], "in", why[n], why_text(why[n]), (), p)
                for n, p in paths.items()
            ]
    return out


def _newest(upstream: Upstream, judge: PypiJudge, name: str) -> str | None:
    from packaging.version import InvalidVersion, Version

    for version in upstream.versions(name):
        try:
            if Version(version).is_prerelease:
                continue
        except InvalidVersion:
            continue
        if judge(name, version).allowed:
            return version
    return None


def _name(requirement: str) -> str:
    from packaging.requirements import Requirement

    return normalize(Requirement(requirement).name)


def _locked(group: Group, judge: PypiJudge, found: Found) -> None:
    """Every version a user's lock holds stays, unless the policy now refuses it."""
    for source, name, version in group.locked:
        if source != "pypi":
            continue
        verdict = judge(name, version)
        found.add(_decision(name, version, verdict, (group.need,), (name,), "locked"))


def _decision(
    name: str, version: str, j: Judgement, needs: tuple[Need, ...], path: tuple[str, ...], why: str
) -> Decision:
    rule = j.rule or why
    evidence = j.evidence if j.rule else "; ".join(filter(None, [why_text(why), j.evidence]))
    return Decision(
        "pypi", name, version, "in" if j.allowed else "out", rule, evidence, needs, path
    )


def why_text(why: str) -> str:
    return {
        "locked": "a user's env runs it",
        "requested": "asked for",
        "dependency": "a dependency of what was asked for",
        "keep_latest": "among the newest allowed versions of a request",
    }.get(why, why)


def _latest(
    config: MirrorConfig,
    upstream: Upstream,
    judge: PypiJudge,
    name: str,
    needs: tuple[Need, ...],
    found: Found,
) -> list[str]:
    """The newest ``keep_latest`` allowed final versions; refused ones met on the way out."""
    from packaging.version import InvalidVersion, Version

    whole = judge.package(name)
    if not whole.allowed:
        found.add(_decision(name, "*", whole, needs, (name,), "requested"))
        return []
    kept: list[str] = []
    for version in upstream.versions(name):
        try:
            if Version(version).is_prerelease:
                continue
        except InvalidVersion:
            continue
        verdict = judge(name, version)
        if not verdict.allowed:
            found.add(_decision(name, version, verdict, needs, (name,), "keep_latest"))
            continue
        kept.append(version)
        if len(kept) >= config.pypi.keep_latest:
            break
    if not upstream.files(name):
        found.notes.append(f"{name} (asked for by {', '.join(map(str, needs))}) is not upstream")
    return kept


class _Solver:
    def __init__(
        self, config: MirrorConfig, policy: Policy, judge: PypiJudge, tmp: Path, cache: SolveCache
    ) -> None:
        self.config = config
        self.policy = policy
        self.judge = judge
        self.uv_cache = tmp
        self.cache = cache
        self._uv_path = ""
        self._uv_lock = threading.Lock()
        self.failed: dict[int, list[str]] = {}

    @property
    def uv(self) -> str:
        """uv's binary, found once, by the first solve that needs it (under a lock: finding
        it reads sysconfig, whose first read is not thread-safe)."""
        with self._uv_lock:
            if not self._uv_path:
                self._uv_path = uv_bin()
            return self._uv_path

    def run(
        self, jobs: list[Job], found: Found, quiet: Callable[[Job], bool] = lambda _job: False
    ) -> list[Solution | None]:
        """Solve the jobs side by side; their decisions merged in order (the same run, the
        same paths).  A ``quiet`` job that fails keeps its notes in ``failed``."""

        def one(job: Job) -> tuple[Found, Solution | None]:
            mine = Found()
            return mine, self.closure(*job, mine)

        out: list[Solution | None] = []
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for job, (result, solution) in zip(jobs, pool.map(one, jobs), strict=True):
                for decision in result.by_key.values():
                    found.add(decision)
                if solution is None and quiet(job):
                    self.failed[id(job)] = result.notes
                else:
                    found.notes.extend(result.notes)
                out.append(solution)
        return out

    def closure(
        self, reqs: list[str], target: Target, needs: Need | tuple[Need, ...], found: Found
    ) -> Solution | None:
        """Solve ``reqs`` for ``target`` within the policy; record each pin with its path."""
        needs = needs if isinstance(needs, tuple) else (needs,)
        who = ", ".join(map(str, needs))
        for text in reqs:
            whole = self.judge.package(_name(text))
            if not whole.allowed:
                found.add(_decision(_name(text), "*", whole, needs, (_name(text),), "requested"))
        reqs = [r for r in reqs if self.judge.package(_name(r)).allowed and self._any_allowed(r)]
        if not reqs:
            return None
        excluded: list[str] = []
        for _ in range(MAX_ROUNDS):
            try:
                pins, parents = self.solve(reqs, target, excluded)
            except UserPkgError as exc:
                found.notes.append(f"{' '.join(reqs)} for {target} ({who}): {exc.message}")
                return None
            more = []
            for name, version in pins.items():
                verdict = self.judge(name, version)
                if verdict.allowed:
                    continue
                path = _path(name, parents)
                found.add(_decision(name, version, verdict, needs, path, "dependency"))
                if not self.judge.package(name).allowed:
                    found.notes.append(
                        f"{' '.join(reqs)} for {target} ({who}) needs {name}, which the policy "
                        f"refuses ({verdict.rule})"
                    )
                    return None
                more.append(f"{name}!={version}")
            if not more:
                for name, version in pins.items():
                    why = "requested" if not parents.get(name) else "dependency"
                    path = _path(name, parents)
                    found.add(_decision(name, version, self.judge(name, version), needs, path, why))
                return pins, parents
            excluded += more
        found.notes.append(f"{' '.join(reqs)} for {target} ({who}): no solution within the policy")
        return None

    def _any_allowed(self, requirement: str) -> bool:
        """Does some upstream version of the request pass the policy?  (If none does, the
        refused ones have their ``out`` lines and there is nothing to solve.)"""
        from packaging.requirements import Requirement

        req = Requirement(requirement)
        versions = self.judge.upstream.versions(req.name)
        wanted = [v for v in versions if req.specifier.contains(v, prereleases=True)]
        return any(self.judge(req.name, v).allowed for v in wanted) or not wanted

    def solve(
        self, reqs: list[str], target: Target, excluded: list[str]
    ) -> tuple[dict[str, str], dict[str, list[str]]]:
        """uv's pins and, for each, the packages that brought it in (``# via``)."""
        upstream = self.config.pypi.upstream
        key = SolveCache.key(reqs, str(target), sorted(excluded), self.policy.snapshot, upstream)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        found = self._uv(reqs, target, excluded)
        self.cache.put(key, found)
        return found

    def _uv(
        self, reqs: list[str], target: Target, excluded: list[str]
    ) -> tuple[dict[str, str], dict[str, list[str]]]:
        with tempfile.TemporaryDirectory(prefix="userpkg-mirror-solve-") as tmp:
            req_file = Path(tmp) / "requirements.in"
            req_file.write_text("\n".join(reqs) + "\n", encoding="utf-8")
            cons = Path(tmp) / "constraints.txt"
            cons.write_text("\n".join(excluded) + "\n", encoding="utf-8")
            args = [
                self.uv, "pip", "compile", str(req_file), "--no-header",
                "--annotation-style", "line", "--quiet", "--no-config", "--color", "never",
                "--no-python-downloads", "--python-version", target.python,
                "--python-platform", target.platform, "--default-index",
                self.config.pypi.upstream, "--cache-dir", str(self.uv_cache),
                "--constraints", str(cons),
            ]  # fmt: skip
            if self.policy.snapshot:
                args += ["--exclude-newer", self.policy.snapshot]
            env = {"VIRTUAL_ENV": "", "UV_PYTHON_DOWNLOADS": "never"}
            result = run(args, env=env, drop=("UV_", "PIP_"))
            if result.returncode != 0:
                # uv's first line says that it failed, the next ones why: keep the why.
                lines = [ln.strip(" \u2570\u2500\u25b6") for ln in result.stderr.splitlines()]
                lines = [
                    re.sub(r"^(caused by|cause):\s*", "", ln, flags=re.I) for ln in lines if ln
                ]
                why = [ln for ln in lines if not ln.startswith(("error:", "\u00d7", "hint:"))]
                said = " ".join(why[:2]) or (lines[0] if lines else "uv could not resolve")
                raise SolveFailed(said[:300])
            return parse_compiled(result.stdout)


def parse_compiled(text: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    pins: dict[str, str] = {}
    parents: dict[str, list[str]] = {}
    for line in text.splitlines():
        body, _, via = line.partition("#")
        body = body.strip()
        if "==" not in body or body.startswith("-"):
            continue
        name, version = body.split(";")[0].split("==", 1)
        key = normalize(name.split("[")[0].strip())
        pins[key] = version.strip()
        via = via.strip().removeprefix("via").strip()
        parents[key] = [
            normalize(p.strip())
            for p in via.split(",")
            if p.strip() and not p.strip().startswith("-")
        ]
    return pins, parents


def _path(name: str, parents: dict[str, list[str]]) -> tuple[str, ...]:
    """The shortest chain of dependencies from a request down to ``name``."""
    path = [name]
    seen = {name}
    while parents.get(path[0]):
        parent = next((p for p in parents[path[0]] if p not in seen), None)
        if parent is None:
            break
        path.insert(0, parent)
        seen.add(parent)
    return tuple(path)
