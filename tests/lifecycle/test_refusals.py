"""Bad input stops deploy.yml in its preflight play, before any host is changed.

One case per class of bad input, each on the deployed sandbox: the run must fail, say what is
wrong (naming the variable, group or host and what was expected), report changed=0 for every
host, never start a play after preflight, and leave the service answering as before.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.lifecycle.conftest import ROOT, app_health, inventory, run_on, run_playbook, said, tail

SECRETS = ROOT / ".secrets" / "sandbox"


def _recap(done: subprocess.CompletedProcess) -> dict[str, int]:
    """changed= of every host in the run's recap."""
    text = done.stdout + done.stderr
    return {m[0]: int(m[1]) for m in re.findall(r"^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)", text, re.M)}


def assert_refused_before_any_change(done: subprocess.CompletedProcess, *messages: str) -> None:
    assert done.returncode != 0, tail(done)
    for message in messages:
        assert said(done, message), f"not said: {message!r}\n{tail(done)}"
    recap = _recap(done)
    assert recap, tail(done)
    assert set(recap.values()) == {0}, recap
    # Nothing after the preflight play started.
    assert "PLAY [Host firewall]" not in done.stdout, tail(done)


@pytest.fixture(scope="module")
def versions():
    """/health of every app host, before and (after the refused runs) after."""
    before = app_health()
    yield before
    assert app_health() == before


def test_a_wrong_type_names_the_variable_and_the_role(versions):
    done = run_playbook("deploy.yml", "-e", "postgres_port=fivefourthreefour", log="refuse-type")
    assert_refused_before_any_change(
        done, "role postgres: argument 'postgres_port' is of type str", "convert to int"
    )


def test_an_unknown_environment_names_the_choices(versions):
    done = run_playbook("deploy.yml", "-e", "ecis_environment=staging", log="refuse-env")
    assert_refused_before_any_change(
        done, "ecis_environment must be one of: sandbox, dev, test, prod, got: staging"
    )


def test_a_missing_secret_is_named(versions):
    done = run_playbook("deploy.yml", "-e", "ecis_redis_password=", log="refuse-secret")
    assert_refused_before_any_change(
        done, "secret(s) ecis_redis_password missing or shorter than 16 characters"
    )


def test_an_undersized_host_names_the_host_and_the_tier(versions):
    tier = '{"preflight_tier": {"cpus": 512, "memory_mb": 1024, "disk_gb": 5}}'
    done = run_playbook("deploy.yml", "-e", tier, log="refuse-tier")
    assert_refused_before_any_change(done, "CPU(s); the sandbox tier needs 512")
    assert said(done, "lb1 has")


def test_a_port_held_by_another_process_names_the_host_port_and_process(versions):
    squatter = "ecis-test-squatter"
    run_on("app1", f"systemd-run --unit {squatter} python3 -m http.server 8399 --bind 127.0.0.1")
    try:
        done = run_playbook("deploy.yml", "-e", "orchestrator_api_port=8399", log="refuse-port")
    finally:
        run_on("app1", f"systemctl stop {squatter}")
    assert_refused_before_any_change(done, "app1: port 8399 is held by python3")


def test_an_empty_required_group_is_named(versions, tmp_path):
    hosts = yaml.safe_load((inventory() / "hosts.yml").read_text())
    hosts["all"]["children"]["redis"] = {"hosts": {}}
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    (sandbox / "hosts.yml").write_text(yaml.safe_dump(hosts))
    (sandbox / "group_vars").symlink_to(inventory() / "group_vars")
    done = run_playbook(
        "deploy.yml", "-e", f"ecis_secrets_dir={SECRETS}",
        log="refuse-group", inventory_path=sandbox,
    )  # fmt: skip
    assert_refused_before_any_change(
        done, "inventory group 'redis' is empty or missing: every one of lb, postgres, redis, app"
    )
    shutil.rmtree(sandbox)
