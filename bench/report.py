"""bench/REPORT.md and its charts (bench/charts/*.png) from bench/results/*.json.

    python -m bench.report

Only what is in results/ is reported; a benchmark not run yet is listed as not measured.
"""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.common import RESULTS, ROOT

CHARTS = ROOT / "bench" / "charts"
REPORT = ROOT / "bench" / "REPORT.md"
ORDER = ["deploy", "scale", "settings", "upgrade", "rollback", "api", "workers"]


def _load() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))}


_DRAW = {"charts": True}


def _bar(name: str, labels: list[str], values: list[float], unit: str, title: str) -> str:
    link = f"![{title}](charts/{name}.png)"
    if not _DRAW["charts"]:
        return link
    CHARTS.mkdir(parents=True, exist_ok=True)
    figure, axis = plt.subplots(figsize=(7, 0.5 + 0.45 * len(labels)))
    bars = axis.barh(labels, values, color="#4472c4")
    axis.bar_label(bars, labels=[f"{v:,.1f} {unit}" for v in values], padding=3)
    axis.invert_yaxis()
    axis.set_xlabel(unit)
    axis.set_title(title)
    axis.set_xlim(0, max(values) * 1.3 if values else 1)
    figure.tight_layout()
    figure.savefig(CHARTS / f"{name}.png", dpi=100)
    plt.close(figure)
    return link


def _met(flag: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "-"}[flag]


def _profile(title: str, tasks: list[list]) -> list[str]:
    rows = [f"{title}:", "", "| task | seconds |", "|---|---|"]
    return rows + [f"| {name} | {seconds:.1f} |" for name, seconds in tasks[:8]] + [""]


def _roles(title: str, profile: dict | None) -> list[str]:
    """Where a run's time went, by role (profile_tasks' time of every task)."""
    if not profile:
        return []
    rows = [
        f"{title}: {profile['tasks']} tasks, {profile['seconds']:.0f} s in all, the median task"
        f" {profile['median_task_s']:.2f} s.",
        "",
        "| role | seconds | tasks | seconds per task |",
        "|---|---|---|---|",
    ]
    for role, seconds, tasks in profile["roles"]:
        rows.append(f"| {role} | {seconds:.1f} | {tasks} | {seconds / tasks:.2f} |")
    return [*rows, ""]


def _by(value: float, target: float) -> str:
    """How far a value is past its target, in percent of the target."""
    return f"by {abs(value - target) / target:.0%}"


def _deploy(r: dict) -> list[str]:
    fresh, rerun = r["fresh_s"]["median"], r["rerun_s"]["median"]
    return [
        "| run | wall time (median) | runs |",
        "|---|---|---|",
        f"| fresh sandbox: hosts made → stack healthy | {fresh:.0f} s | {r['fresh_s']['runs']} |",
        f"| idempotent re-run (changed=0) | {rerun:.0f} s | {r['rerun_s']['runs']} |",
        "",
        f"Re-run / fresh = **{r['ratio_rerun_to_fresh']:.2f}** (target ≤ 0.20: {_met(r['met'])}"
        + ("" if r["met"] else f", {_by(r['ratio_rerun_to_fresh'], 0.20)}")
        + ").",
        "",
        _bar("deploy", ["fresh", "re-run"], [fresh, rerun], "s", "Deploy wall time"),
        "",
        *([] if r["met"] else _deploy_cost(r)),
        *_roles("The last re-run", r.get("profile_rerun")),
        *_profile("Slowest tasks of the last re-run", r["slowest_tasks_rerun"]),
        *_roles("The last fresh run (the testbed role making hosts first)", r.get("profile_fresh")),
        *_profile("Slowest tasks of the last fresh run", r["slowest_tasks_fresh"]),
    ]


def _deploy_cost(r: dict) -> list[str]:
    """What the re-run's profile shows the missed target costs."""
    profile = r.get("profile_rerun")
    if not profile or not profile["tasks"]:
        return []
    slowest = sum(seconds for _, seconds in r["slowest_tasks_rerun"])
    budget = 0.20 * r["fresh_s"]["median"]
    mean = profile["seconds"] / profile["tasks"]
    return [
        f"The cost is the number of tasks, not a slow one: the re-run runs {profile['tasks']}"
        f" tasks, the median one takes {profile['median_task_s']:.2f} s, and the"
        f" {len(r['slowest_tasks_rerun'])} slowest together take {slowest:.0f} s of the"
        f" {profile['seconds']:.0f} s. A task that changes nothing still costs the controller's"
        " fork, an SSH round trip and the module's Python start on every host it runs on, with"
        " the hosts and the controller sharing this machine's cores. At the re-run's mean of"
        f" {mean:.2f} s a task, the target ({budget:.0f} s) allows about {budget / mean:.0f}"
        " tasks.",
        "",
    ]


def _scale(r: dict) -> list[str]:
    two, six = r["app_hosts_2_s"]["median"], r["app_hosts_6_s"]["median"]
    return [
        "`deploy.yml` on freshly made hosts (host creation not timed), lb, data and temporal",
        "hosts the same in both.",
        "",
        "| app hosts | wall time (median) | runs |",
        "|---|---|---|",
        f"| 2 | {two:.0f} s | {r['app_hosts_2_s']['runs']} |",
        f"| 6 | {six:.0f} s | {r['app_hosts_6_s']['runs']} |",
        "",
        f"6 / 2 = **{r['ratio_6_to_2']:.2f}** (target ≤ 1.5: {_met(r['met'])}"
        + ("" if r["met"] else f", {_by(r['ratio_6_to_2'], 1.5)}")
        + ").",
        "",
        _bar("scale", ["2 app hosts", "6 app hosts"], [two, six], "s", "Deploy, 2 vs 6 app hosts"),
        "",
        *_scale_roles(r.get("profile", {}), r["met"], r["machine"]["cores"]),
        *([] if r["met"] else _scale_tasks(r["slowest_tasks"])),
        *_profile("Slowest tasks with 6 app hosts (last run)", r["slowest_tasks"]["6"]),
    ]


def _scale_tasks(slowest: dict) -> list[str]:
    """The slow tasks of the 6-app-host run that grew most against the 2-app-host run."""
    two, six = dict(map(tuple, slowest.get("2", []))), dict(map(tuple, slowest.get("6", [])))
    grown = [name for name in six if name in two and six[name] > 1.25 * two[name]]
    grown = sorted(grown, key=lambda name: two[name] - six[name])[:4]
    if not grown:
        return []
    return [
        "The slow tasks that grew most: "
        + "; ".join(f"{name} ({two[name]:.0f} s → {six[name]:.0f} s)" for name in grown)
        + ". They grow with the number of hosts they run on, because each host does their work"
        " (package installs, building the virtualenv, compiling) with its own CPU: on a fleet"
        " each host brings its own cores, here all the hosts share the machine's.",
        "",
    ]


def _scale_roles(profiles: dict, met: bool, cores: int) -> list[str]:
    """Each role's time with 2 and with 6 app hosts (the last run of each), side by side."""
    if not {"2", "6"} <= set(profiles):
        return []
    two = {role: seconds for role, seconds, _ in profiles["2"]["roles"]}
    six = {role: seconds for role, seconds, _ in profiles["6"]["roles"]}
    roles = sorted(two.keys() | six.keys(), key=lambda role: -six.get(role, 0.0))
    rows = [
        "Where the time went, by role (the last run of each; every task's time summed):",
        "",
        "| role | 2 app hosts | 6 app hosts | added |",
        "|---|---|---|---|",
    ]
    for role in roles:
        a, b = two.get(role, 0.0), six.get(role, 0.0)
        rows.append(f"| {role} | {a:.1f} s | {b:.1f} s | {b - a:+.1f} s |")
    rows.append("")
    if not met:
        added = {role: six.get(role, 0.0) - two.get(role, 0.0) for role in roles}
        growth = [role for role in sorted(added, key=lambda role: -added[role]) if added[role] > 0]
        rows += [
            "The four more app hosts add "
            f"{profiles['6']['seconds'] - profiles['2']['seconds']:.0f} s of task time, most of"
            " it in " + ", ".join(f"{role} ({added[role]:+.0f} s)" for role in growth[:3]) + "."
            f" The median task takes {profiles['6']['median_task_s']:.2f} s with 6 app hosts"
            f" against {profiles['2']['median_task_s']:.2f} s with 2: every host and the"
            f" controller share this machine's {cores} cores.",
            "",
        ]
    return rows


def _settings(r: dict) -> list[str]:
    rows = [
        f"Idempotent `deploy.yml` re-run on {r['hosts']} hosts with each of the project's",
        "settings (ansible.cfg) turned back to Ansible's default, one at a time.",
        "",
        "| settings | wall time (median) | vs project settings | runs |",
        "|---|---|---|---|",
    ]
    for name, values in r["rerun_s"].items():
        ratio = r["ratio_to_project_settings"][name]
        rows.append(f"| {name} | {values['median']:.0f} s | {ratio:.2f}x | {values['runs']} |")
    labels = list(r["rerun_s"])
    rows += ["", _bar("settings", labels, [r["rerun_s"][n]["median"] for n in labels], "s",
                      "Re-run wall time by setting")]  # fmt: skip
    rows += ["", "By measurement (a setting counts as helping when every run without it was"
             " slower than every run with the project's settings):", ""]  # fmt: skip
    base = r["rerun_s"]["project settings"]["runs"]
    for name in labels[1:]:
        runs, ratio = r["rerun_s"][name]["runs"], r["ratio_to_project_settings"][name]
        if min(runs) > max(base):
            verdict = f"the project's setting helped: {ratio:.2f}x the time without it"
        elif max(runs) < min(base):
            verdict = f"Ansible's default was faster here: {ratio:.2f}x the time"
        else:
            verdict = f"no difference beyond the run-to-run spread ({ratio:.2f}x)"
        rows.append(f"- {name}: {verdict}.")
    return rows


def _upgrade(r: dict) -> list[str]:
    return [
        f"{r['app_hosts']} app hosts, batches of {r['batch']}, a steady load through HAProxy",
        f"({_load_text(r.get('load'))}: /health, and an orchestration every 10th request; every",
        "answer checked).",
        "",
        "| figure | median | runs |",
        "|---|---|---|",
        f"| upgrade wall time | {r['upgrade_s']['median']:.0f} s | {r['upgrade_s']['runs']} |",
        f"| requests sent during it | {r['requests_sent']['median']:.0f} |"
        f" {r['requests_sent']['runs']} |",
        f"| p99 latency before | {r['p99_before_ms']['median']:.0f} ms |"
        f" {r['p99_before_ms']['runs']} |",
        f"| p99 latency during | {r['p99_during_ms']['median']:.0f} ms |"
        f" {r['p99_during_ms']['runs']} |",
        "",
        f"Failed requests, all runs: **{r['failed_requests']}** (target 0: "
        f"{_met(r['met_failed'])}). p99 during / before = {r['p99_ratio_during_to_before']:.2f}.",
        "",
        _bar(
            "upgrade-p99",
            ["before", "during"],
            [r["p99_before_ms"]["median"], r["p99_during_ms"]["median"]],
            "ms",
            "p99 latency through HAProxy",
        ),
        "",
        *_failures([f for run in r["runs"] for f in run["first_failures"]]),
        *_roles("The last upgrade", r["runs"][-1].get("profile_upgrade")),
        *_profile("Slowest tasks of the last upgrade", r["runs"][-1]["slowest_tasks_upgrade"]),
    ]


def _failures(failures: list[str]) -> list[str]:
    if not failures:
        return []
    return ["The first failed answers:", "", *[f"- `{f}`" for f in failures[:5]], ""]


def _load_text(load: dict | None) -> str:
    if not load:
        return "4 clients, each sending as soon as its last answer came"
    return f"{load['clients']} clients, {load['rate']:.0f} requests/s in all"


def _rollback(r: dict) -> list[str]:
    return [
        "| figure | median | runs |",
        "|---|---|---|",
        f"| rollback wall time ({r['app_hosts']} app hosts) | {r['rollback_s']['median']:.0f} s |"
        f" {r['rollback_s']['runs']} |",
        "",
        f"Target ≤ 30 s: {_met(r['met'])}"
        + ("" if r["met"] else f", {_by(r['rollback_s']['median'], 30)}")
        + f". Failed requests during the rollbacks, under the upgrade's load"
        f" ({_load_text(r.get('load'))}): **{r['failed_requests']}**.",
        "",
        *([] if r["met"] else _rollback_cost(r.get("profile"))),
        *_roles("The last rollback", r.get("profile")),
        *_profile("Slowest tasks of the last rollback", r["slowest_tasks"]),
    ]


def _rollback_cost(profile: dict | None) -> list[str]:
    """What the missed rollback target is spent on: the switch of the hosts, and the verify run
    rollback.yml ends with."""
    if not profile:
        return []
    seconds = {role: s for role, s, _ in profile["roles"]}
    return [
        f"Of its {profile['seconds']:.0f} s of task time, switching the hosts (the rollout role:"
        " drain, graceful worker stop, switch, restarts, health gates, enable) takes"
        f" {seconds.get('rollout', 0.0):.0f} s, one host after the other so that HAProxy always"
        f" has one in service, and the verify run at the end {seconds.get('verify', 0.0):.0f} s.",
        "",
    ]


def _api(r: dict) -> list[str]:
    rows = [
        f"{r['clients']} concurrent clients from the controller, every answer checked; the bare",
        "app is a FastAPI hello-world served by the release's uvicorn on the same app host with",
        "the same settings, and through a second HAProxy on the lb host.",
        "",
        "| target | requests/s | p50 | p99 | failed |",
        "|---|---|---|---|---|",
    ]
    for name, t in r["targets"].items():
        rows.append(
            f"| {name} | {t['rps']['median']:.0f} | {t['p50_ms']['median']:.1f} ms |"
            f" {t['p99_ms']['median']:.1f} ms |"
            f" {t['failed']} |"
        )
    labels = list(r["targets"])
    rows += [
        "",
        f"/health / bare app: direct **{r['ratio_health_to_bare_direct']:.2f}**, through HAProxy "
        f"**{r['ratio_health_to_bare_haproxy']:.2f}** (target ≥ 0.50: {_met(r['met'])}).",
        ""
        if r["met"]
        else "Where it is missed, the bare app's own numbers show how much of the cost is the "
        "server and the load generator on this machine, and how much the app's middleware.",
        "",
        _bar(
            "api",
            labels,
            [r["targets"][n]["rps"]["median"] for n in labels],
            "req/s",
            "Requests per second",
        ),
    ]
    return rows


def _workers(r: dict) -> list[str]:
    rows = [
        f"{r['orchestrations_per_run']} orchestrations of {r['steps']} step, started through",
        "HAProxy at once; throughput from the first start to the last completion, latency",
        "from each one's start to its completion (the database's timestamps).",
        "",
        "| workers | completed/s | p50 latency | p99 latency |",
        "|---|---|---|---|",
    ]
    for name, w in r["workers"].items():
        rows.append(
            f"| {name} | {w['per_second']['median']:.1f} | {w['p50_ms']['median']:.0f} ms |"
            f" {w['p99_ms']['median']:.0f} ms |"
        )
    labels = list(r["workers"])
    rows += [
        "",
        f"2 workers / 1 worker = {r['ratio_2_to_1']:.2f}.",
        "",
        _bar(
            "workers",
            labels,
            [r["workers"][n]["per_second"]["median"] for n in labels],
            "/s",
            "Orchestrations completed per second",
        ),
    ]
    return rows


SECTIONS = {
    "deploy": ("1. Deploy: fresh and re-run", _deploy),
    "scale": ("2. Scale: 2 vs 6 app hosts", _scale),
    "settings": ("2b. Which Ansible settings helped", _settings),
    "upgrade": ("3. Rolling upgrade under load", _upgrade),
    "rollback": ("4. Rollback", _rollback),
    "api": ("5. API", _api),
    "workers": ("6. Orchestrations per second", _workers),
}


def render(*, charts: bool = True) -> str:
    """The report's text; charts=False leaves the PNG files alone (the tests' check)."""
    _DRAW["charts"] = charts
    results = _load()
    machines = {json.dumps(r["machine"], sort_keys=True) for r in results.values()}
    lines = ["# Benchmarks", "", "Written by `python -m bench.report` from `bench/results/*.json`",
             "(`make bench` runs both). Every figure is the median of the runs listed beside it.",
             ""]  # fmt: skip
    for text in sorted(machines):
        m = json.loads(text)
        lines.append(
            f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB memory, {m['os']},"
            f" Python {m['python']}; the sandbox's five (or nine) hosts are containers on it."
        )
    lines.append("")
    for name in ORDER:
        title, section = SECTIONS[name]
        lines += [f"## {title}", ""]
        if name in results:
            at = results[name].get("commit")
            when = f"Measured {results[name]['measured']}" + (f" on commit `{at}`." if at else ".")
            lines += [when, "", *section(results[name]), ""]
        else:
            producer = "upgrade" if name == "rollback" else name
            lines += [f"Not measured yet: `python -m bench.run {producer}`.", ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    REPORT.write_text(render())
    print(f"wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
