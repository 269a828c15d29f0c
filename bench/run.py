"""The benchmarks, on the sandbox (make bench). Each writes bench/results/<name>.json.

    python -m bench.run [--runs N] [deploy upgrade api workers scale settings]

They run in that order, whatever order they are named in: scale leaves the 6-app-host stack
deployed for settings, and the 2-app-host sandbox is made again at the end.

Every figure is the median of --runs runs (at least 3). Peers (the bare FastAPI app; Ansible's
own defaults beside the project's settings) run in the same session, and ratios are reported.
Traffic goes only to the sandbox hosts; every load is bounded in count and time, and checks
every answer.
"""

from __future__ import annotations

import argparse
import base64
import shutil
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import yaml

from bench import httpload
from bench.common import (
    ROOT,
    SANDBOX,
    by_role,
    changed,
    commit,
    env,
    on_host,
    percentile,
    playbook,
    slowest_tasks,
    summary,
    write,
)
from tests.lifecycle.conftest import make_release
from tests.lifecycle.load import Load

SCALE = ROOT / "bench" / "inventories" / "scale6"
# The 6-app-host inventory shares the sandbox's generated secrets.
SECRETS = ("-e", f"ecis_secrets_dir={ROOT / '.secrets' / 'sandbox'}")


def _hosts(inventory: Path, group: str) -> dict[str, str]:
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())["all"]["children"]
    return {name: spec["ansible_host"] for name, spec in hosts[group]["hosts"].items()}


LB = next(iter(_hosts(SANDBOX, "lb").values()))
APP1 = _hosts(SANDBOX, "app")["app1"]


def _assert_idempotent(done) -> None:
    recap = changed(done)
    assert recap and set(recap.values()) == {0}, f"the re-run changed something: {recap}"


def _fresh_hosts(inventory: Path, log: str) -> None:
    """New hosts for the inventory, and none of the larger one's left running beside them."""
    playbook("testbed.yml", "-e", "testbed_state=absent", *SECRETS, log=f"{log}-down",
             inventory=SCALE)  # fmt: skip
    playbook("testbed.yml", *SECRETS, log=f"{log}-up", inventory=inventory)


def bench_deploy(runs: int) -> None:
    """1. Fresh sandbox (hosts made -> stack healthy) and an idempotent re-run."""
    fresh, rerun = [], []
    for i in range(runs):
        playbook("testbed.yml", "-e", "testbed_state=absent", log=f"deploy-down-{i}")
        seconds, first = playbook("sandbox.yml", log=f"deploy-fresh-{i}")
        fresh.append(seconds)
        seconds, again = playbook("deploy.yml", log=f"deploy-rerun-{i}")
        _assert_idempotent(again)
        rerun.append(seconds)
    ratio = statistics.median(rerun) / statistics.median(fresh)
    write("deploy", {
        "fresh_s": summary(fresh), "rerun_s": summary(rerun),
        "ratio_rerun_to_fresh": round(ratio, 3), "target": "re-run <= 0.20 of fresh",
        "met": ratio <= 0.20,
        "slowest_tasks_fresh": slowest_tasks(first), "slowest_tasks_rerun": slowest_tasks(again),
        "profile_fresh": by_role(first), "profile_rerun": by_role(again),
    })  # fmt: skip


def bench_scale(runs: int) -> None:
    """2. deploy.yml on fresh hosts with 2 app hosts and with 6, everything else equal."""
    two, six = [], []
    profiles: dict[str, list] = {}
    by_roles: dict[str, dict] = {}
    for i in range(runs):
        for inventory, into, name in ((SANDBOX, two, "2"), (SCALE, six, "6")):
            _fresh_hosts(inventory, f"scale-{name}-{i}")
            seconds, done = playbook("deploy.yml", *SECRETS, log=f"scale-{name}-{i}",
                                     inventory=inventory)  # fmt: skip
            into.append(seconds)
            profiles[name] = slowest_tasks(done)
            by_roles[name] = by_role(done)
    # The 6-app-host stack is left deployed for the settings benchmark; main() removes it.
    ratio = statistics.median(six) / statistics.median(two)
    write("scale", {
        "app_hosts_2_s": summary(two), "app_hosts_6_s": summary(six),
        "ratio_6_to_2": round(ratio, 3), "target": "6 app hosts <= 1.5x 2 app hosts",
        "met": ratio <= 1.5, "slowest_tasks": profiles, "profile": by_roles,
    })  # fmt: skip


# The project's settings (ansible.cfg) and, for each, Ansible's own default in its place.
SETTINGS = {
    "project settings": {},
    "forks 5 (Ansible's default)": {"ANSIBLE_FORKS": "5"},
    "no pipelining": {"ANSIBLE_PIPELINING": "False"},
    "no fact cache (gather every play)": {
        "ANSIBLE_GATHERING": "implicit",
        "ANSIBLE_CACHE_PLUGIN": "memory",
    },
    "no SSH multiplexing": {"ANSIBLE_SSH_ARGS": "-o ControlMaster=no -o ServerAliveInterval=15"},
}


def bench_settings(runs: int) -> None:
    """2b. The idempotent re-run on 9 hosts (6 app hosts) with each setting turned back."""
    if not _app_hosts_up(SCALE):
        _fresh_hosts(SCALE, "settings")
    # Converged with this code first (untimed), so every timed run is a re-run.
    playbook("deploy.yml", *SECRETS, log="settings-deploy", inventory=SCALE)
    results = {}
    for i in range(runs):
        for number, (name, overrides) in enumerate(SETTINGS.items()):
            seconds, done = playbook(
                "deploy.yml", *SECRETS, log=f"settings-{i}-{number}", inventory=SCALE,
                environment=env(**overrides),
            )  # fmt: skip
            _assert_idempotent(done)
            results.setdefault(name, []).append(seconds)
    base = statistics.median(results["project settings"])
    write("settings", {
        "hosts": 9,
        "rerun_s": {name: summary(values) for name, values in results.items()},
        "ratio_to_project_settings": {
            name: round(statistics.median(values) / base, 3) for name, values in results.items()
        },
    })  # fmt: skip


def _health_versions() -> set[str]:
    return {
        httpx.get(f"http://{address}:8200/health", timeout=5).json()["version"]
        for address in _hosts(SANDBOX, "app").values()
    }


# The steady load of the upgrade and rollback benchmarks: requests/s through HAProxy, an
# orchestration every 10th. 4 orchestrations/s stays below what the workers complete (the workers
# benchmark), so the queue does not grow and the verify run's own orchestration is not left
# waiting behind the load's.
LOAD = {"clients": 4, "rate": 40.0}


def bench_upgrade(runs: int) -> None:
    """3 and 4. Rolling upgrade of the 2 app hosts under load, then rollback; wall times."""
    base = sorted(_health_versions())
    assert len(base) == 1, f"app hosts run different releases: {base}"
    workdir = Path(tempfile.mkdtemp(prefix="ecis-bench-"))
    rows = []
    lb_url = f"http://{LB}:8200"
    try:
        for i in range(runs):
            # A new version each run, so each upgrade builds, distributes and switches.
            version = f"0.9.{int(time.time())}"
            source = make_release(workdir, version, migration=False, broken=False)
            before = Load(lb_url, version_ok=set(base), max_seconds=15, **LOAD).start()
            time.sleep(15)
            before.stop()
            during = Load(lb_url, version_ok={*base, version}, **LOAD).start()
            try:
                up, up_run = playbook("upgrade.yml", "-e", f"ecis_version={version}", "-e",
                                 f"ecis_source={source}", log=f"upgrade-{i}")  # fmt: skip
            finally:
                during.stop()
            back_load = Load(lb_url, version_ok={*base, version}, **LOAD).start()
            try:
                back, back_run = playbook("rollback.yml", "-e", f"ecis_version={base[0]}",
                                   log=f"rollback-{i}")  # fmt: skip
            finally:
                back_load.stop()
            assert _health_versions() == set(base)
            rows.append({
                "version": version, "upgrade_s": up, "rollback_s": back,
                "sent": during.sent, "failed": len(during.failures),
                "rollback_sent": back_load.sent, "rollback_failed": len(back_load.failures),
                "p99_before_ms": percentile(before.latencies, 99) * 1000,
                "p99_during_ms": percentile(during.latencies, 99) * 1000,
                "first_failures": (during.failures + back_load.failures)[:3],
                "slowest_tasks_upgrade": slowest_tasks(up_run),
                "slowest_tasks_rollback": slowest_tasks(back_run),
                "profile_upgrade": by_role(up_run), "profile_rollback": by_role(back_run),
            })  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def med(key: str) -> dict:
        return summary([row[key] for row in rows])

    failed = sum(r["failed"] + r["rollback_failed"] for r in rows)
    write("upgrade", {
        "app_hosts": 2, "batch": 1, "load": LOAD,
        "upgrade_s": med("upgrade_s"), "requests_sent": med("sent"), "failed_requests": failed,
        "p99_before_ms": med("p99_before_ms"), "p99_during_ms": med("p99_during_ms"),
        "p99_ratio_during_to_before": round(
            statistics.median(r["p99_during_ms"] for r in rows)
            / statistics.median(r["p99_before_ms"] for r in rows), 3),
        "target_failed": 0, "met_failed": failed == 0, "runs": rows,
    })  # fmt: skip
    rollback = [r["rollback_s"] for r in rows]
    write("rollback", {
        "app_hosts": 2, "load": LOAD, "rollback_s": summary(rollback), "target": "<= 30 s",
        "met": statistics.median(rollback) <= 30,
        "slowest_tasks": rows[-1]["slowest_tasks_rollback"],
        "profile": rows[-1]["profile_rollback"],
        "requests_sent": summary([r["rollback_sent"] for r in rows]),
        "failed_requests": sum(r["rollback_failed"] for r in rows),
    })  # fmt: skip


HELLO = """from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"hello": "world"}
"""

PEER_HAPROXY = f"""global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend bare
    bind *:8298
    default_backend bare
backend bare
    server app1 {APP1}:8299
"""


def _write(host: str, path: str, text: str) -> None:
    """A file on a host, sent base64-encoded so no shell or ansible parsing touches it."""
    encoded = base64.b64encode(text.encode()).decode()
    on_host(host, f"mkdir -p {Path(path).parent} && echo {encoded} | base64 -d > {path}")


def _peer_up() -> None:
    """The bare FastAPI app on app1, served as the API is (the release's uvicorn, the same
    workers and access-log setting), and a second HAProxy on lb1 in front of it. Both ports are
    opened in the host firewalls for the length of the benchmark only."""
    unit = on_host("app1", "systemctl cat ecis-api | grep -A2 '^ExecStart'")
    workers = unit.split("--workers", 1)[1].split()[0]
    access = "--no-access-log" if "--no-access-log" in unit else ""
    _write("app1", "/opt/ecis-bench/hello.py", HELLO)
    on_host("app1", "nft insert rule inet ecis input tcp dport 8299 accept")
    on_host("app1", "systemd-run --unit ecis-bench-hello --property=User=ecis "
                    "/opt/ecis/current/venv/bin/uvicorn hello:app --app-dir /opt/ecis-bench "
                    f"--host {APP1} --port 8299 --workers {workers} {access}")  # fmt: skip
    _write("lb1", "/run/ecis-bench/haproxy.cfg", PEER_HAPROXY)
    on_host("lb1", "nft insert rule inet ecis input tcp dport 8298 accept")
    on_host(
        "lb1", "systemd-run --unit ecis-bench-haproxy haproxy -db -f /run/ecis-bench/haproxy.cfg"
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{LB}:8298/hello", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the bare app did not come up")


def _peer_down() -> None:
    """Stop both, remove their files, and reload the firewalls' own rules."""
    on_host("app1", "systemctl stop ecis-bench-hello; rm -rf /opt/ecis-bench; "
                    "systemctl reload ecis-firewall")  # fmt: skip
    on_host("lb1", "systemctl stop ecis-bench-haproxy; rm -rf /run/ecis-bench; "
                   "systemctl reload ecis-firewall")  # fmt: skip


def bench_api(runs: int) -> None:
    """5. /health and POST /api/v1/orchestrations, direct and through HAProxy, beside the bare
    FastAPI app served the same way."""
    targets = {
        "bare hello, direct": (f"http://{APP1}:8299/hello", "GET", httpload.hello_ok, 3000),
        "bare hello, HAProxy": (f"http://{LB}:8298/hello", "GET", httpload.hello_ok, 3000),
        "/health, direct": (f"http://{APP1}:8200/health", "GET", httpload.health_ok, 3000),
        "/health, HAProxy": (f"http://{LB}:8200/health", "GET", httpload.health_ok, 3000),
        "POST orchestration, direct": (
            f"http://{APP1}:8200/api/v1/orchestrations", "POST", httpload.accepted, 300),
        "POST orchestration, HAProxy": (
            f"http://{LB}:8200/api/v1/orchestrations", "POST", httpload.accepted, 300),
    }  # fmt: skip
    outcomes: dict[str, list[dict]] = {name: [] for name in targets}
    try:
        _peer_up()
        for _ in range(runs):
            for name, (url, method, check, requests) in targets.items():
                outcome = httpload.run(url, method=method, check=check, requests=requests,
                                       clients=16, max_seconds=60)  # fmt: skip
                outcomes[name].append(outcome.figures())
    finally:
        _peer_down()

    def med(name: str, key: str) -> float:
        return statistics.median(o[key] for o in outcomes[name])

    figures = {
        name: {
            **{
                key: summary([o[key] for o in outcomes[name]])
                for key in ("rps", "p50_ms", "p99_ms")
            },
            "requests": [o["requests"] for o in outcomes[name]],
            "failed": sum(o["failed"] for o in outcomes[name]),
            "first_failure": next((o["first_failure"] for o in outcomes[name] if o["failed"]), ""),
        }
        for name in targets
    }
    direct = med("/health, direct", "rps") / med("bare hello, direct", "rps")
    proxied = med("/health, HAProxy", "rps") / med("bare hello, HAProxy", "rps")
    write("api", {
        "clients": 16, "targets": figures,
        "ratio_health_to_bare_direct": round(direct, 3),
        "ratio_health_to_bare_haproxy": round(proxied, 3),
        "target": "/health >= 0.50 of the bare app's requests/s",
        "met": direct >= 0.5 and proxied >= 0.5,
    })  # fmt: skip


def _orchestrate(count: int) -> list[dict]:
    """Start `count` one-step orchestrations through HAProxy, wait for all, return them."""
    url = f"http://{LB}:8200/api/v1/orchestrations"
    outcome = httpload.run(url, method="POST", check=httpload.accepted, requests=count,
                           clients=8, max_seconds=120)  # fmt: skip
    assert outcome.failed == 0 and outcome.requests == count, outcome.first_failure
    since = time.monotonic()
    with httpx.Client(timeout=10) as http:
        while time.monotonic() - since < 300:
            page = http.get(url, params={"limit": count}).json()
            items = page["items"][:count]
            if len(items) == count and all(o["status"] != "running" for o in items):
                return items
            time.sleep(1)
    raise RuntimeError("orchestrations did not finish in 300 s")


def bench_workers(runs: int, count: int = 60) -> None:
    """6. Orchestrations completed per second with 1 and with 2 workers, and their latency."""
    figures = {}
    for workers in (1, 2):
        if workers == 1:
            on_host("app2", "systemctl stop ecis-worker")
        try:
            rows = []
            for _ in range(runs):
                items = _orchestrate(count)
                assert all(o["status"] == "completed" for o in items), items[:3]
                created = [datetime.fromisoformat(o["created_at"]) for o in items]
                done = [datetime.fromisoformat(o["completed_at"]) for o in items]
                span = (max(done) - min(created)).total_seconds()
                latency = [
                    (d - c).total_seconds() * 1000 for c, d in zip(created, done, strict=True)
                ]
                rows.append({"per_second": count / span, "p50_ms": percentile(latency, 50),
                             "p99_ms": percentile(latency, 99)})  # fmt: skip
        finally:
            on_host("app2", "systemctl start ecis-worker")
        figures[f"{workers} worker{'s' if workers > 1 else ''}"] = {
            key: summary([row[key] for row in rows]) for key in ("per_second", "p50_ms", "p99_ms")
        }
    one = figures["1 worker"]["per_second"]["median"]
    two = figures["2 workers"]["per_second"]["median"]
    write("workers", {"orchestrations_per_run": count, "steps": 1, "workers": figures,
                      "ratio_2_to_1": round(two / one, 3)})  # fmt: skip


# In the order they run: the ones on the 2-app-host sandbox first, then the ones that leave the
# 6-app-host stack in its place.
BENCHES = {
    "deploy": bench_deploy,
    "upgrade": bench_upgrade,
    "api": bench_api,
    "workers": bench_workers,
    "scale": bench_scale,
    "settings": bench_settings,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("names", nargs="*", metavar="name", help=", ".join(BENCHES))
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs: every figure is a median of at least 3 runs")
    unknown = set(args.names) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}: expected some of {list(BENCHES)}")
    print(f"bench: measuring commit {commit()}", flush=True)
    for name in [name for name in BENCHES if not args.names or name in args.names]:
        started = time.monotonic()
        print(f"bench {name}: {args.runs} runs", flush=True)
        BENCHES[name](args.runs)
        print(f"bench {name}: done in {time.monotonic() - started:.0f} s", flush=True)
    # The sandbox is left deployed: the 6-app-host hosts go, and the sandbox is made again if
    # the deploy or scale benchmark left it down.
    if {"scale", "settings"} & set(args.names or BENCHES):
        playbook("testbed.yml", "-e", "testbed_state=absent", *SECRETS, log="scale-cleanup",
                 inventory=SCALE)  # fmt: skip
    if not _app_hosts_up(SANDBOX):
        playbook("sandbox.yml", log="final-sandbox")


def _app_hosts_up(inventory: Path) -> bool:
    """Every app host of the inventory answers /health, and the load balancer does."""
    urls = [f"http://{LB}:8200/health"] + [
        f"http://{address}:8200/health" for address in _hosts(inventory, "app").values()
    ]
    try:
        return all(httpx.get(url, timeout=5).status_code == 200 for url in urls)
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
