"""Upgrade, failed upgrade, rollback and backup/restore under load, on the deployed sandbox.

One ordered story (the tests depend on each other's state, as an operator's day does):
0.1.0 is deployed; upgrade to 0.2.0 (with an expand migration) under load and with orchestrations
in flight; try a broken 0.3.0 that must stop at its first batch and switch back; roll back to
0.1.0; back up, write more, restore, compare row counts.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.lifecycle.conftest import (
    app_health,
    make_release,
    run_playbook,
    said,
    schema_revision,
    tail,
)
from tests.lifecycle.load import Load


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[str, Path]:
    workdir = tmp_path_factory.mktemp("releases")
    return {
        "0.2.0": make_release(workdir, "0.2.0", migration=True, broken=False),
        "0.3.0": make_release(workdir, "0.3.0", migration=True, broken=True),
    }


def start_slow_orchestrations(lb_url: str, count: int = 4) -> list[str]:
    steps = [
        {"name": "first", "action": "echo"},
        {"name": "slow", "action": "sleep", "params": {"seconds": 5}},
        {"name": "last", "action": "sum", "params": {"values": [1, 2]}},
    ]
    ids = []
    for i in range(count):
        answer = httpx.post(
            f"{lb_url}/api/v1/orchestrations", json={"name": f"in-flight-{i}", "steps": steps}
        )
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
    return ids


def wait_completed(lb_url: str, ids: list[str], timeout: float = 180) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    status: dict[str, str] = {}
    with httpx.Client(base_url=lb_url, timeout=10) as http:
        while time.monotonic() < deadline:
            status = {i: http.get(f"/api/v1/orchestrations/{i}").json()["status"] for i in ids}
            if all(s != "running" for s in status.values()):
                break
            time.sleep(1)
    return status


def host_versions() -> dict[str, str]:
    """The version each app host reports, asked directly (not through the balancer)."""
    return {name: health["version"] for name, health in app_health().items()}


def total_orchestrations(lb_url: str) -> int:
    return httpx.get(f"{lb_url}/api/v1/orchestrations", params={"limit": 1}).json()["total"]


def test_01_the_deployed_release_is_0_1_0(lb_url):
    assert set(host_versions().values()) == {"0.1.0"}


def test_02_upgrade_under_load_drops_nothing(lb_url, releases):
    in_flight = start_slow_orchestrations(lb_url)
    load = Load(lb_url, version_ok={"0.1.0", "0.2.0"}).start()
    try:
        done = run_playbook(
            "upgrade.yml", "-e", "ecis_version=0.2.0", "-e", f"ecis_source={releases['0.2.0']}",
            log="upgrade-0.2.0",
        )  # fmt: skip
        after = start_slow_orchestrations(lb_url, 2)
    finally:
        load.stop()
    assert done.returncode == 0, tail(done)
    assert load.failures == [], load.failures[:10]
    assert load.sent > 100, "the load sent too little to prove anything"
    assert load.versions_seen == {"0.1.0", "0.2.0"}
    statuses = wait_completed(lb_url, in_flight + load.started_ids + after)
    assert set(statuses.values()) == {"completed"}, statuses
    assert set(host_versions().values()) == {"0.2.0"}


def test_03_upgrading_to_the_running_version_changes_nothing(releases):
    done = run_playbook(
        "upgrade.yml", "-e", "ecis_version=0.2.0", "-e", f"ecis_source={releases['0.2.0']}",
        log="upgrade-0.2.0-again",
    )  # fmt: skip
    assert done.returncode == 0, tail(done)
    recap = [line for line in done.stdout.splitlines() if " : ok=" in line]
    assert recap and all("changed=0" in line for line in recap), "\n".join(recap)
    assert said(done, "nothing to do")


def test_04_a_broken_release_stops_at_the_first_batch_and_is_switched_back(lb_url, releases):
    load = Load(lb_url, version_ok={"0.2.0"}).start()
    try:
        done = run_playbook(
            "upgrade.yml", "-e", "ecis_version=0.3.0", "-e", f"ecis_source={releases['0.3.0']}",
            "-e", "rollout_health_timeout=15", log="upgrade-0.3.0-broken",
        )  # fmt: skip
    finally:
        load.stop()
    assert done.returncode != 0
    assert said(done, "rollout of 0.3.0 stopped at app1"), tail(done)
    assert said(done, "app1 is back on 0.2.0")
    assert load.failures == [], load.failures[:10]
    assert host_versions() == {"app1": "0.2.0", "app2": "0.2.0"}


def test_05_rollback_to_0_1_0_keeps_what_0_2_0_wrote(lb_url):
    written = start_slow_orchestrations(lb_url, 2)
    assert set(wait_completed(lb_url, written).values()) == {"completed"}
    load = Load(lb_url, version_ok={"0.1.0", "0.2.0"}).start()
    try:
        done = run_playbook("rollback.yml", "-e", "ecis_version=0.1.0", log="rollback-0.1.0")
    finally:
        load.stop()
    assert done.returncode == 0, tail(done)
    assert load.failures == [], load.failures[:10]
    assert set(host_versions().values()) == {"0.1.0"}
    for orchestration_id in written:
        body = httpx.get(f"{lb_url}/api/v1/orchestrations/{orchestration_id}").json()
        assert body["status"] == "completed" and body["steps"][2]["result"] == {"sum": 3}


def test_06_rollback_with_no_earlier_release_changes_nothing():
    done = run_playbook("rollback.yml", log="rollback-none")
    assert done.returncode == 0, tail(done)
    assert said(done, "nothing to roll back to")
    recap = [line for line in done.stdout.splitlines() if " : ok=" in line]
    assert all("changed=0" in line for line in recap), "\n".join(recap)


def test_07_a_downgrade_migration_is_refused_unless_asked_for():
    # The rollback above left the schema as 0.2.0 made it: 0.1.0 runs on it (expand/contract).
    assert schema_revision("0.2.0") == "0003"
    done = run_playbook("migrate.yml", "-e", "ecis_db_revision=0002", log="migrate-down-refused")
    assert done.returncode != 0
    assert said(done, "undoes 0003") and said(done, "ecis_db_downgrade=true"), tail(done)
    assert schema_revision("0.2.0") == "0003"


def test_07b_an_asked_for_downgrade_takes_a_backup_first_and_keeps_rows(lb_url):
    before = total_orchestrations(lb_url)
    done = run_playbook(
        "migrate.yml", "-e", "ecis_db_revision=0002", "-e", "ecis_db_downgrade=true",
        log="migrate-down",
    )  # fmt: skip
    assert done.returncode == 0, tail(done)
    output = " ".join(done.stdout.split())
    backup_at = output.index("app 0.1.0-before-migrate-to-0002")
    assert backup_at < output.index("TASK [orchestrator : Undo migrations down to the target")
    assert schema_revision("0.2.0") == "0002"
    assert total_orchestrations(lb_url) == before


def test_07c_rollback_with_a_downgrade_backs_up_then_undoes_the_newer_migrations(releases):
    done = run_playbook(
        "upgrade.yml", "-e", "ecis_version=0.2.0", "-e", f"ecis_source={releases['0.2.0']}",
        log="upgrade-0.2.0-once-more",
    )  # fmt: skip
    assert done.returncode == 0, tail(done)
    assert schema_revision("0.2.0") == "0003"
    done = run_playbook(
        "rollback.yml", "-e", "ecis_version=0.1.0", "-e", "ecis_db_downgrade=true",
        log="rollback-with-downgrade",
    )  # fmt: skip
    assert done.returncode == 0, tail(done)
    assert said(done, "app 0.1.0-before-downgrade")
    assert schema_revision("0.2.0") == "0002"
    assert set(host_versions().values()) == {"0.1.0"}


def test_08_backup_and_restore_round_trip(lb_url):
    done = run_playbook("backup.yml", log="backup")
    assert done.returncode == 0, tail(done)
    assert said(done, "app 0.1.0"), tail(done)
    before = total_orchestrations(lb_url)
    extra = start_slow_orchestrations(lb_url, 3)
    wait_completed(lb_url, extra)
    assert total_orchestrations(lb_url) == before + 3
    done = run_playbook("restore.yml", log="restore")
    assert done.returncode == 0, tail(done)
    # The rows written after the backup are gone; the only row since is verify.yml's own run.
    for orchestration_id in extra:
        assert httpx.get(f"{lb_url}/api/v1/orchestrations/{orchestration_id}").status_code == 404
    newest = httpx.get(f"{lb_url}/api/v1/orchestrations", params={"limit": 1}).json()
    assert newest["total"] == before + 1 and newest["items"][0]["name"] == "verify"
