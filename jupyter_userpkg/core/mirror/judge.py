"""Each candidate judged by the policy's own checks (the ones the pipeline's check
step calls): a version the mirror leaves out is one a user's install is refused,
for the same rule and reason.  Here only the evidence is gathered for the record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .engines import Policy, Verdict, normalize, of_metadata, record_verdict
from .upstream import UpFile, Upstream, UpstreamError


@dataclass(frozen=True)
class Judgement:
    """``rule`` is empty for an allowed version; ``evidence`` says what was looked at."""

    rule: str = ""
    evidence: str = ""

    @property
    def allowed(self) -> bool:
        return not self.rule


def _said(verdict: Verdict) -> str:
    parts = [verdict.reason] if verdict.reason else []
    if verdict.advisory:
        parts.append(f"advisory {verdict.advisory}")
    return "; ".join(parts)


def _uploaded(file: UpFile) -> datetime | None:
    if not file.upload_time:
        return None
    try:
        return datetime.fromisoformat(file.upload_time.replace("Z", "+00:00"))
    except ValueError:
        return None


class PypiJudge:
    """Judges PyPI versions (name, version rules, snapshot date, licence), once each."""

    def __init__(self, policy: Policy, upstream: Upstream) -> None:
        self.policy = policy
        self.upstream = upstream
        self._memo: dict[tuple[str, str], Judgement] = {}

    def __call__(self, name: str, version: str) -> Judgement:
        key = (normalize(name), version)
        if key not in self._memo:
            self._memo[key] = self._judge(*key)
        return self._memo[key]

    def package(self, name: str) -> Judgement:
        verdict = self.policy.package_verdict(name, "pypi")
        return Judgement(verdict.rule, _said(verdict)) if verdict else Judgement()

    def _judge(self, name: str, version: str) -> Judgement:
        verdict = self.policy.version_verdict(name, version, "pypi")
        if verdict is not None:
            return Judgement(verdict.rule, _said(verdict))
        files = [f for f in self.upstream.files(name) if f.version == version]
        snapshot = self.policy.snapshot_time
        times = [t for t in (_uploaded(f) for f in files) if t is not None]
        if snapshot is not None and times and min(times) > snapshot:
            return Judgement(
                "snapshot",
                f"published {min(times).isoformat()}, after the snapshot {snapshot.isoformat()}",
            )
        if not self.policy.allowed_licenses:
            return Judgement()
        licence = self.licence(files)
        verdict = self.policy.license_verdict(name, licence)
        if verdict is not None:
            return Judgement(verdict.rule, f"licence: {licence or 'none declared'}")
        return Judgement("", f"licence: {licence}")

    def licence(self, files: list[UpFile]) -> str | None:
        for file in files:
            if file.is_wheel:
                try:
                    return of_metadata(self.upstream.metadata(file).decode("utf-8", "replace"))
                except UpstreamError:
                    continue
        return None


@dataclass(frozen=True)
class _Name:
    normalized: str


@dataclass(frozen=True)
class _Record:
    """The fields of a conda record the policy's record check reads."""

    name: _Name
    version: str
    license: str | None


def judge_conda(policy: Policy, record: dict[str, Any]) -> Judgement:
    """A repodata record (name, version, licence) judged by the policy's record check,
    once per (name, version, licence) for the policy's life (builds share them).  A build
    published after the policy's snapshot date is out (``timestamp``, in milliseconds)."""
    memo: dict[Any, Any] = policy.memo
    if policy.snapshot:
        snapshot = policy.snapshot_time
        assert snapshot is not None
        stamp = record.get("timestamp") or 0
        seconds = stamp / 1000 if stamp > 1e11 else stamp  # milliseconds, or old seconds
        if seconds > snapshot.timestamp():
            when = datetime.fromtimestamp(seconds, UTC).isoformat()
            return Judgement("snapshot", f"published {when}, after the snapshot {snapshot}")
    # A package refused whatever its version: the record check would say just that.
    whole = memo.get(("mirror-package", record["name"]))
    if whole is None:
        verdict = policy.package_verdict(normalize(str(record["name"])), "conda")
        whole = Judgement(verdict.rule, _said(verdict)) if verdict else Judgement()
        memo[("mirror-package", record["name"])] = whole
    if not whole.allowed:
        return whole
    key = ("mirror", record["name"], record["version"], record.get("license"))
    found = memo.get(key)
    if found is None:
        found = memo[key] = _judge_conda(policy, record)
    return found


def _judge_conda(policy: Policy, record: dict[str, Any]) -> Judgement:
    rec = _Record(
        _Name(normalize(str(record["name"]))), str(record["version"]), record.get("license")
    )
    verdict = record_verdict(policy, rec)
    if verdict is None:
        licence = record.get("license")
        return Judgement("", f"licence: {licence}" if policy.allowed_licenses else "")
    if verdict.rule == "allowed_licenses":
        return Judgement(verdict.rule, f"licence: {record.get('license') or 'none declared'}")
    return Judgement(verdict.rule, _said(verdict))
