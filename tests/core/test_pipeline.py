"""The change pipeline and the kinds' registry: the check step, progress events, kind rules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import jupyter_userpkg
from jupyter_userpkg.core import kinds
from jupyter_userpkg.core.errors import InvalidRequest, PolicyDenied
from jupyter_userpkg.core.events import ProgressEvent, Reporter
from jupyter_userpkg.core.kinds.base import EnvKind
from jupyter_userpkg.core.records import Plan
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import TestChannel
from tests.conftest import env_state

PACKAGE = Path(jupyter_userpkg.__file__).parent


def _refuse_tabulate(plan: Plan) -> None:
    for change in plan.changes:
        if change.name == "tabulate" and change.new is not None:
            raise PolicyDenied(f"tabulate {change.new} is not allowed here", rule="test")


@pytest.mark.slow
def test_a_refused_plan_changes_nothing_in_any_verb(tmp_path: Path, svc: UserPkgService) -> None:
    """The check step sees every plan (create, change, rollback, dry runs) before anything moves."""
    checked = UserPkgService(
        svc.store.envs_dir,
        base_python=svc.base_python,
        kernels_dir=svc.kernels_dir,
        conda_options=svc.conda,
        checks=[_refuse_tabulate],
    )
    with pytest.raises(PolicyDenied, match=r"tabulate .* is not allowed"):
        checked.create("p", kind="venv", kernel=False, specs=["tabulate"])
    assert not svc.store.prefix("p").exists()
    assert checked.list_envs() == []

    svc.create("p", kind="venv", kernel=False, specs=["six"])
    before = env_state(svc.store.envs_dir, "p")
    for dry_run in (True, False):
        with pytest.raises(PolicyDenied):
            checked.change("p", install=["tabulate"], dry_run=dry_run)
    assert env_state(svc.store.envs_dir, "p") == before
    assert [r.revision for r in checked.history("p")] == [0]

    svc.change("p", install=["tabulate"])  # allowed without the check
    svc.change("p", remove=["tabulate"])
    before = env_state(svc.store.envs_dir, "p")
    with pytest.raises(PolicyDenied):
        checked.rollback(1, "p")  # revision 1 holds tabulate
    assert env_state(svc.store.envs_dir, "p") == before
    assert checked.rollback(0, "p").applied  # a plan without tabulate passes


@pytest.mark.slow
def test_pypi_progress_names_each_package_and_counts(svc: UserPkgService) -> None:
    svc.create("e", kind="venv", kernel=False)
    events: list[ProgressEvent] = []
    result = svc.change("e", install=["python-slugify"], progress=events.append)
    phases = [e.phase for e in events]
    assert phases[0] == "solve" and phases[-1] == "commit"
    installed = [e for e in events if e.phase == "install" and e.package]
    added = sorted(c.name for c in result.plan.changes)
    assert sorted(e.package or "" for e in installed) == added
    assert [e.done for e in installed] == list(range(1, len(added) + 1))
    assert {e.total for e in installed} == {len(added)}


@pytest.mark.slow
def test_conda_progress_counts_linked_packages(
    svc: UserPkgService, conda_channel: TestChannel
) -> None:
    svc.create("c", kind="conda", kernel=False, channels=[conda_channel.url], specs=["bar 1.*"])
    events: list[ProgressEvent] = []
    svc.change("c", install=["bar 2.*"], progress=events.append)
    linked = [e for e in events if e.phase == "install" and e.package]
    assert {e.package for e in linked} == {"bar", "libfoo"}  # both move to 2.0
    assert sorted(e.done or 0 for e in linked) == [1, 2]
    assert {e.total for e in linked} == {2}  # of the plan's conda packages to link
    assert any(e.phase == "remove" and e.package == "bar" for e in events)


def test_uv_report_becomes_events() -> None:
    events: list[ProgressEvent] = []
    forward = Reporter(events.append).uv_lines(total=2)
    assert forward is not None
    for line in [
        "warning: something",
        "Downloading scipy (35.0MiB)",
        "Prepared 2 packages in 1.2s",
        "error: not cached",
        " - six==1.16.0",
        " + six==1.17.0",
        " + scipy==1.14.0",
    ]:
        forward(line)
    assert [(e.phase, e.package, e.done, e.total) for e in events] == [
        ("download", "scipy", None, None),
        ("download", None, None, None),
        ("remove", "six", 1, None),
        ("install", "six", 1, 2),
        ("install", "scipy", 2, 2),
    ]
    assert Reporter().uv_lines() is None  # nobody listens: uv's output is not read line by line


def test_events_round_trip_as_json_shapes() -> None:
    event = ProgressEvent("download", "downloading big", "big", 512, 1024)
    assert ProgressEvent.from_dict(event.to_dict()) == event
    assert ProgressEvent.from_dict({"phase": "solve", "message": "x", "done": "3"}).done is None


def test_registry_names_every_kind_and_refuses_others() -> None:
    assert list(kinds.KINDS) == ["layer", "venv", "conda"]
    assert kinds.get(kinds.DEFAULT_KIND).name == "layer"
    assert kinds.default_kind() is kinds.get("layer")  # also once the kind's module is loaded
    with pytest.raises(InvalidRequest, match="unknown environment kind 'docker'; use one of"):
        kinds.get("docker")
    protocol = [m for m in vars(EnvKind) if not m.startswith("_")]
    every = [kinds.get(name) for name in kinds.KINDS]
    assert [k.name for k in every] == list(kinds.KINDS)
    assert [k.name for k in every if k.extends_base] == ["layer"]
    for kind in every:
        for method in protocol:
            assert callable(getattr(kind, method)), (kind.name, method)
        assert isinstance(kind.name, str) and isinstance(kind.extends_base, bool)


def test_each_kind_writes_the_exports_it_lists_and_refuses_the_others() -> None:
    """``exports`` (what the panel offers) says what ``export`` writes: nothing more or less."""
    from jupyter_userpkg.core.exports import FORMATS
    from jupyter_userpkg.core.kinds.base import EnvState
    from jupyter_userpkg.core.manifest import Manifest

    for name in kinds.KINDS:
        kind = kinds.get(name)
        assert kind.exports and set(kind.exports) <= set(FORMATS), name
        state = EnvState("x", 1, Manifest("x", name, "3.11"))
        for fmt in FORMATS:
            if fmt in kind.exports:
                assert kind.export(state, fmt), (name, fmt)
            else:
                with pytest.raises(InvalidRequest, match="export it as"):
                    kind.export(state, fmt)
    assert [k["exports"] for k in kinds.describe()] == [
        list(kinds.get(n).exports) for n in kinds.KINDS
    ]


def _kind_branches(source: str) -> list[int]:
    """Lines asking a kind's name instead of a question: a comparison of something
    called ``kind`` (or a ``.name``, ``kind.name`` say) with a kind's name, or a flag
    named after a kind (``plan.is_conda``)."""
    names = set(kinds.KINDS)
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in {f"is_{n}" for n in names}:
            found.append(node.lineno)
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        mentions_kind = any(
            (isinstance(s, ast.Attribute) and s.attr in ("kind", "name"))
            or (isinstance(s, ast.Name) and s.id == "kind")
            for s in sides
        )
        literals = {
            c.value
            for s in sides
            for c in ast.walk(s)
            if isinstance(c, ast.Constant) and isinstance(c.value, str)
        }
        if mentions_kind and literals & names:
            found.append(node.lineno)
    return sorted(set(found))


def test_no_kind_branches_outside_the_kinds() -> None:
    """What differs between kinds lives in the kinds' modules, asked through the registry."""
    snippet = 'if manifest.kind == "conda":\n    pass\nok = kind in ("venv", "layer")\n'
    assert _kind_branches(snippet) == [1, 3]  # the rule can fail
    also = (
        'if ctx.kind.name == "conda":\n    pass\nif x.name != "layer" or plan.is_conda:\n    pass\n'
    )
    assert _kind_branches(also) == [1, 3]  # also through a kind's name, or a flag named for it
    kinds_dir = PACKAGE / "core" / "kinds"
    branches = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if kinds_dir not in path.parents and "labextension" not in path.parts
        for line in _kind_branches(path.read_text(encoding="utf-8"))
    ]
    assert branches == []


def test_a_listing_sees_an_env_made_again_under_its_name(pinned_svc: UserPkgService) -> None:
    """A long-lived process keeps listed summaries: one deleted and made again is read anew."""
    svc = pinned_svc
    svc.create("x", kind="venv", kernel=False, specs=["pindep==1.0"])
    assert [(e.name, e.packages) for e in svc.list_envs()] == [("x", 1)]
    svc.delete("x")
    svc.create("x", kind="venv", kernel=False)
    assert [(e.name, e.packages) for e in svc.list_envs()] == [("x", 0)]
