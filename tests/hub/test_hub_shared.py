"""The admin guide's worked example of shared environments, on a real JupyterHub.

The administrator's config is the guide's (``shared_envs_dirs``, ``shared_kernels_dir``,
with this test's paths) in the hub's private ``/etc/jupyter``; the administrator (root)
runs the guide's two ``create --shared`` commands, read from the guide, with small local
packages standing in for the guide's big ones (``ipykernel`` is the real one).  Then two
real Unix users, each through their own single-user server (spawned as that user, as a hub
with shared envs runs them) and its REST API as the panel uses it, see both stacks marked
shared, are refused a change to one in the one line, make the guide's layer over it
(``POST envs`` with ``over``), install a package of their own into it, and a kernel of the
layer, started through their server, imports a package of the stack and the layer's own.
"""

from __future__ import annotations

import json
import pwd
import re
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import namespace
from tests.cli.test_shared_envs import as_admin
from tests.hub.hubproc import Hub
from tests.hub.test_hub_docs import GUIDE
from tests.hub.users import real_users
from tests.localindex import LocalIndex, build_wheel

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

USERS = ("upkg-hs-ana", "upkg-hs-ben")
#: The guide's packages, and the small local packages that stand in for them.
STAND_IN = {
    "numpy": "hsnumpy",
    "pandas": "hspandas",
    "matplotlib": "hsmatplotlib",
    "scikit-learn": "hssklearn",
    "seaborn": "hsseaborn",
    "tabulate": "hstabulate",
}
REQUIRES = {"hsseaborn": ["hsmatplotlib"], "hspandas": ["hsnumpy"], "hssklearn": ["hsnumpy"]}
OWN = "hsmine"  # what each user installs into their layer afterwards
REFUSED = (
    "environment {0!r} is shared and read-only: the administrator changes it "
    "(create your own env over it: jupyter userpkg create NAME --over {0})"
)


def worked_example() -> tuple[list[list[str]], list[list[str]]]:
    """The guide's worked example: the administrator's and a user's ``create`` commands."""
    text = GUIDE.read_text().split("### Worked example: two shared stacks", 1)[1]
    text = text.split("\n### ", 1)[0]
    admin = re.findall(r"^# jupyter userpkg (create .*)$", text, flags=re.M)
    user = re.findall(r"^\$ jupyter userpkg (create .*)$", text, flags=re.M)
    return [shlex.split(line) for line in admin], [shlex.split(line) for line in user]


def guide_config(shared: Path, kernels: Path) -> dict[str, object]:
    """The guide's administrator's config (the JSON with ``shared_envs_dirs``), our paths."""
    blocks = re.findall(r"```json\n(.*?)```", GUIDE.read_text(), flags=re.S)
    (config,) = [json.loads(b) for b in blocks if '"shared_kernels_dir"' in b]
    settings = config["UserPkg"]
    assert settings["shared_envs_dirs"] == ["/srv/userpkg/shared"]
    settings["shared_envs_dirs"] = [str(shared)]
    settings["shared_kernels_dir"] = str(kernels)
    return dict(config)


@pytest.fixture(scope="module")
def unix_users() -> Iterator[list[pwd.struct_passwd]]:
    """Two real users with homes of their own (0700), removed afterwards."""
    with real_users(USERS) as users:
        yield users


@pytest.fixture(scope="module")
def top() -> Iterator[Path]:
    """A root-owned dir users can read (the session's temp dirs are root's 0700): the shared
    envs dir, its kernels dir and the wheels."""
    path = Path(tempfile.mkdtemp(prefix="upkg-hubsh-", dir="/tmp"))
    path.chmod(0o755)
    wheels = path / "wheels"
    wheels.mkdir(mode=0o755)
    for name in (*STAND_IN.values(), OWN):
        build_wheel(wheels, name, "1.0", requires=REQUIRES.get(name, ())).chmod(0o644)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def hub_index(top: Path) -> Iterator[LocalIndex]:
    """The users' PyPI: the stand-ins and their own package."""
    with LocalIndex(top / "wheels") as index:
        yield index


@pytest.fixture(scope="module")
def hub_private_etc(tmp_path_factory: pytest.TempPathFactory, top: Path) -> Path:
    """The administrator's /etc/jupyter, with the shared stacks of the guide built in it."""
    namespace.skip_unless_available()
    base = tmp_path_factory.mktemp("shared-etc")
    upper, _ = namespace.etc_dirs(base)
    config = guide_config(top / "shared", top / "kernels")
    config["UserPkg"]["find_links"] = [str(top / "wheels")]  # type: ignore[index]
    (upper / "jupyter" / "jupyter_userpkg_config.json").write_text(json.dumps(config))
    admin, _ = worked_example()
    assert [argv[:2] for argv in admin] == [["create", "datasci"], ["create", "ml"]]
    script = "".join(
        "run $PY -m jupyter_userpkg " + shlex.join(STAND_IN.get(word, word) for word in argv) + "\n"
        for argv in admin
    )
    for done in as_admin(base, script):
        assert done[0] == 0, done
    return base


@pytest.fixture(scope="module")
def hub_environment(top: Path) -> dict[str, str]:
    """The shared kernels dir is on every server's Jupyter path (``<dir>/kernels``)."""
    return {"JUPYTER_PATH": str(top)}


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory,
    unix_users: list[pwd.struct_passwd],
    hub_own_dirs: dict[str, Path],
    hub_private_etc: Path,
    hub_environment: dict[str, str],
    hub_server_args: list[str],
) -> Iterator[Hub]:
    """This module's hub: its users are the real users, and their servers run as them."""
    hub = Hub(
        tmp_path_factory.mktemp("shared-hub"),
        users=[u.pw_name for u in unix_users],
        environment=hub_environment,
        args=hub_server_args,
        hub_env={key: str(path) for key, path in hub_own_dirs.items()},
        private_etc=hub_private_etc,
        as_users=True,
    )
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


def test_users_layer_over_the_guides_shared_stacks_through_their_servers(
    hub: Hub, unix_users: list[pwd.struct_passwd], top: Path
) -> None:
    _, layers = worked_example()
    assert [argv[1:4] for argv in layers] == [["plots", "--over", "datasci"],
                                              ["tables", "--over", "ml"]]  # fmt: skip
    hub.start_servers(*hub.users)
    stacks = {"datasci": "hspandas", "ml": "hssklearn"}  # a package of each stack
    for user, argv in zip(unix_users, layers, strict=True):
        name, token = user.pw_name, hub.token(user.pw_name)
        layer, base, specs = argv[1], argv[3], [STAND_IN[s] for s in argv[4:]]

        code, envs = hub.userpkg(name, "GET", "envs", token=token)
        assert code == 200, envs
        shown = {e["name"]: e for e in envs}
        assert {k: shown[k]["shared"] for k in stacks} == {"datasci": True, "ml": True}
        assert shown[base]["path"] == str(top / "shared" / base)

        # A change to the stack is refused in the one line; nothing is started.
        code, error = hub.userpkg(
            name, "POST", f"envs/{base}/transactions", token=token, body={"install": [OWN]}
        )
        assert code == 403 and error["code"] == "permission_denied", error
        assert error["message"] == REFUSED.format(base), error

        # The guide's layer, then a package of the user's own in it.
        body = {"name": layer, "over": base, "specs": specs}
        job = hub.run_job(name, "POST", "envs", token=token, body=body)
        assert job["state"] == "succeeded", f"{job}\n{hub.log()}"
        job = hub.run_job(
            name, "POST", f"envs/{layer}/transactions", token=token, body={"install": [OWN]}
        )
        assert job["state"] == "succeeded", job
        code, mine = hub.userpkg(name, "GET", f"envs/{layer}", token=token)
        assert code == 200 and mine["over"] == base and mine["shared"] is False, mine
        assert mine["path"] == f"{user.pw_dir}/.local/share/jupyter/userpkg/envs/{layer}"

        # The layer's kernel, through the user's server: the stack's package and the layer's.
        cell = (
            f"import {stacks[base]} as s, {specs[0]} as l, {OWN} as o, sys\n"
            "print(s.__file__, l.VERSION, o.VERSION, sys.prefix)"
        )
        out = hub.run_code(name, cell, token=token, kernel_name=f"userpkg-{layer}").split()
        assert out[0].startswith(str(top / "shared" / base)), out
        assert out[1:3] == ["1.0", "1.0"] and out[3].startswith(mine["path"]), out
    # The stacks are as the administrator made them: no user's package in either.
    assert not list((top / "shared").glob(f"*/lib/python*/site-packages/{OWN}*"))
