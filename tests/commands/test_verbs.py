"""The commands: one frozen dataclass per verb, the same whichever front end built it."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from jupyter_userpkg.commands import bodies
from jupyter_userpkg.commands.dispatch import HANDLERS
from jupyter_userpkg.commands.grammar import VERBS, parse_command
from jupyter_userpkg.commands.verbs import (
    COMMANDS,
    Change,
    Command,
    Envs,
    Install,
    Kinds,
    Mirror,
    Policy,
    Update,
    from_namespace,
)
from jupyter_userpkg.core.errors import InvalidRequest

#: One instance of each verb's command, with every required field given.
EXAMPLES: list[Command] = [
    parse_command(["envs"]),
    parse_command(["create", "x", "tabulate"]),
    bodies.env_command("x"),
    parse_command(["install", "numpy"]),
    parse_command(["remove", "numpy"]),
    parse_command(["update", "--all"]),
    Change(install=("a",), remove=("b",)),
    parse_command(["rollback", "0"]),
    parse_command(["list"]),
    parse_command(["history"]),
    parse_command(["export"]),
    parse_command(["delete", "x"]),
    parse_command(["search", "numpy"]),
    parse_command(["info", "numpy"]),
    parse_command(["provides", "slugify"]),
    parse_command(["policy"]),
    parse_command(["kinds"]),
    parse_command(["doctor"]),
    parse_command(["mirror", "plan", "--config", "mirror.toml"]),
]


def test_every_verb_has_a_frozen_command_and_a_handler() -> None:
    assert sorted(type(c).verb for c in EXAMPLES) == sorted(COMMANDS)
    assert set(VERBS) <= set(COMMANDS) and set(COMMANDS) == set(HANDLERS)
    for command in EXAMPLES:
        cls = type(command)
        assert COMMANDS[cls.verb] is cls
        assert cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]
        for field in dataclasses.fields(command):
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(command, field.name, getattr(command, field.name))
            assert not isinstance(getattr(command, field.name), (list, dict, set))
        hash(command)  # nothing mutable inside


#: (command line, the REST request that says the same), each built by its front end.
SAME_REQUEST = [
    (
        ["install", "-n", "work", "--dry-run", "numpy", "scipy<2"],
        lambda: bodies.change_command("work", {"install": ["numpy", "scipy<2"]}, dry_run=True),
    ),
    (
        ["install", "-n", "work", "--pypi", "requests"],
        lambda: bodies.change_command(
            "work", {"install": ["requests"], "pypi": True}, dry_run=False
        ),
    ),
    (
        ["remove", "--name", "work", "--dry-run", "numpy"],
        lambda: bodies.change_command("work", {"remove": ["numpy"]}, dry_run=True),
    ),
    (
        ["update", "-n", "work", "--all"],
        lambda: bodies.change_command("work", {"update_all": True}, dry_run=False),
    ),
    (
        ["update", "-n", "work", "--dry-run", "numpy"],
        lambda: bodies.change_command("work", {"update": ["numpy"]}, dry_run=True),
    ),
    (
        ["rollback", "-n", "work", "--dry-run", "2"],
        lambda: bodies.rollback_command("work", {"revision": 2, "dry_run": True}),
    ),
    (
        ["create", "lab", "--kind", "conda", "--python", "3.12", "-c", "conda-forge", "numpy"],
        lambda: bodies.create_command(
            {
                "name": "lab",
                "kind": "conda",
                "python": "3.12",
                "channels": ["conda-forge"],
                "specs": ["numpy"],
            }
        ),
    ),
    (
        ["create", "--dry-run", "plain", "--no-kernel"],
        lambda: bodies.create_command({"name": "plain", "kernel": False}, dry_run=True),
    ),
    (["envs"], bodies.envs_command),
    (["list", "-n", "work", "--base"], lambda: bodies.list_command("work")),
    (["history", "-n", "work"], lambda: bodies.history_command("work")),
    (
        ["export", "-n", "work", "--format", "lock"],
        lambda: bodies.export_command("work", "lock"),
    ),
    (["delete", "work"], lambda: bodies.delete_command("work")),
    (
        ["search", "--conda", "num", "--limit", "5"],
        lambda: bodies.search_command(" num ", "conda", "5"),
    ),
    (["info", "--pypi", "numpy"], lambda: bodies.info_command("numpy", "pypi")),
    (["provides", "-n", "work", "slugify"], lambda: bodies.provides_command(" slugify", "work")),
    (["provides", "yaml"], lambda: bodies.provides_command("yaml", "")),
    (["policy", "--check"], lambda: bodies.policy_command("true")),
    (["policy"], lambda: bodies.policy_command("")),
]


@pytest.mark.parametrize(
    ("argv", "rest"), SAME_REQUEST, ids=lambda x: " ".join(x) if isinstance(x, list) else ""
)
def test_the_cli_and_rest_build_equal_commands(argv: list[str], rest: object) -> None:
    from_cli = parse_command(argv)
    from_rest = rest()  # type: ignore[operator]
    assert from_cli == from_rest
    assert type(from_cli) is type(from_rest)


def test_a_body_of_several_parts_is_one_change() -> None:
    body = {"install": ["a"], "remove": ["b"], "update": ["c"], "pypi": True}
    command = bodies.change_command("work", body, dry_run=True)
    assert command == Change(
        env="work", install=("a",), remove=("b",), update=("c",), pypi=True, dry_run=True
    )
    assert command.parts() == (("a",), ("b",), ("c",), False)
    both = bodies.change_command("work", {"install": ["a"], "update_all": True}, dry_run=False)
    assert isinstance(both, Change) and both.parts() == (("a",), (), (), True)
    # An empty change stays one: the service says there is nothing to do.
    assert bodies.change_command("work", {}, dry_run=False) == Change(env="work")
    assert isinstance(parse_command(["update", "-n", "w", "x"]), Update)


def test_bodies_check_types_before_building() -> None:
    with pytest.raises(InvalidRequest, match="field 'install' must be a list of strings"):
        bodies.change_command("work", {"install": "numpy"}, dry_run=False)
    with pytest.raises(InvalidRequest, match="field 'revision' must be an integer"):
        bodies.rollback_command("work", {"revision": True})
    with pytest.raises(InvalidRequest, match="unknown field 'specs'"):
        bodies.change_command("work", {"specs": ["numpy"]}, dry_run=False)


def test_from_namespace_takes_each_dest_as_its_field() -> None:
    parsed = argparse.Namespace(verb="install", env=None, specs=["a", "b"], json=True)
    assert from_namespace(Install, parsed) == Install(specs=("a", "b"), json=True)
    assert from_namespace(Kinds, argparse.Namespace(verb="kinds")) == Kinds()
    with pytest.raises(TypeError, match="Envs has no field for the grammar's limit"):
        from_namespace(Envs, argparse.Namespace(verb="envs", limit=3))
    command = parse_command(["mirror", "sync", "--config", "m.toml", "--prune"])
    assert command == Mirror(action="sync", config="m.toml", prune=True)
    assert parse_command(["policy", "--json"]) == Policy(json=True)
