"""The administrator's guide shows the hub config the policy test runs (``CONFIG_TEMPLATE``
with an administrator's paths) and a policy file that reads as one."""

from __future__ import annotations

import json
import re
from pathlib import Path

from jupyter_userpkg.core.policy.rules import from_data
from tests.hub.hubproc import CONFIG_TEMPLATE, _literal

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "admin-guide.md"

#: The example's values: what a test fills in with ports and temporary paths.
EXAMPLE = {
    "bind_url": "http://127.0.0.1:8000",
    "hub_bind_url": "http://127.0.0.1:8081",
    "proxy_api_url": "http://127.0.0.1:8001",
    "proxy": "/usr/local/bin/configurable-http-proxy",
    "proxy_pid_file": "/srv/jupyterhub/proxy.pid",
    "db_url": "sqlite:////srv/jupyterhub/jupyterhub.sqlite",
    "cookie_secret_file": "/srv/jupyterhub/jupyterhub_cookie_secret",
    "password": "change-me",
    "users": {"alice", "bob"},
    "home_dir_template": "/srv/jupyterhub/home/{username}",
    "singleuser": "/opt/jupyterhub/bin/jupyterhub-singleuser",
    "args": [],
    "environment": {"PATH": "/opt/jupyterhub/bin:/usr/local/bin:/usr/bin:/bin"},
    "admin_token": "<a long random secret: openssl rand -hex 32>",
}


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), flags=re.S)


def test_the_guides_hub_config_is_the_tests() -> None:
    rendered = CONFIG_TEMPLATE.substitute({k: _literal(v) for k, v in EXAMPLE.items()})
    assert rendered in blocks("python"), "docs/admin-guide.md: the hub example is out of date"


def test_the_guides_policy_files_are_policies() -> None:
    found = [b for b in blocks("json") if '"blocked_versions"' in b or '"allowed_licenses"' in b]
    assert found
    for text in found:
        policy = from_data(json.loads(text), "docs/admin-guide.md")
        assert policy.restricts_packages or policy.allowed_licenses
