"""Testinfra checks of a deployed inventory, run by molecule's verify (molecule/shared/verify.yml).

Ansible templates the inventory; testinfra does not. So the verify play writes what these checks
need about each host (address, login, groups, a few variables) to the JSON file named by
ECIS_TESTINFRA_HOSTS, and each module here says which inventory group it checks (GROUP, or
"all" for every host). The hosts are reached over SSH with sudo, as Ansible reaches them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import testinfra


def inventory() -> dict:
    path = os.environ.get("ECIS_TESTINFRA_HOSTS")
    if not path:
        raise pytest.UsageError("ECIS_TESTINFRA_HOSTS must name the hosts file verify.yml writes")
    return json.loads(Path(path).read_text())


def pytest_generate_tests(metafunc):
    if "node" in metafunc.fixturenames:
        group = metafunc.module.GROUP
        names = sorted(n for n, h in inventory().items() if group in [*h["groups"], "all"])
        metafunc.parametrize("name", names, ids=names, scope="module")


@pytest.fixture(scope="module")
def node(name) -> dict:
    """What the inventory says of the host under test."""
    return {"name": name, **inventory()[name]}


def connect(node: dict):
    """A testinfra host for one inventory entry, reached over SSH with sudo."""
    return testinfra.get_host(
        f"ssh://{node['user']}@{node['address']}",
        ssh_identity_file=node["key"],
        ssh_extra_args=node["ssh_args"],
        sudo=True,
    )


@pytest.fixture(scope="module")
def host(node):
    return connect(node)


@pytest.fixture(scope="module")
def address(node) -> str:
    return node["address"]
