"""What every benchmark shares: the machine, timed playbook runs, medians, result files."""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LOGS = ROOT / ".cache" / "bench"
SANDBOX = ROOT / "inventories" / "sandbox"
BIN = Path(sys.executable).parent
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def machine() -> dict:
    """Cores, memory and OS of the machine the figures were measured on."""
    meminfo = Path("/proc/meminfo").read_text()
    kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo)[1])
    model = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(kib / 1024 / 1024, 1),
        "cpu": model[1].strip() if model else platform.processor(),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def env(**overrides: str) -> dict[str, str]:
    """The environment playbooks run in: the project's ansible.cfg, plain output, overrides."""
    out = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        # Per-task times in each run's output: the profile a missed target is explained by.
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
        "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "8",
    }
    out.pop("ANSIBLE_FORCE_COLOR", None)
    out.update(overrides)
    return out


def playbook(
    name: str,
    *extra: str,
    log: str,
    inventory: Path = SANDBOX,
    environment: dict[str, str] | None = None,
    check: bool = True,
) -> tuple[float, subprocess.CompletedProcess]:
    """Run a playbook, return its wall time in seconds and the run; the output goes to a log."""
    LOGS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    done = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), f"playbooks/{name}", *extra],
        cwd=ROOT,
        env=environment or env(),
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    seconds = time.monotonic() - started
    done.stdout = _ANSI.sub("", done.stdout)
    (LOGS / f"{log}.log").write_text(done.stdout + done.stderr)
    if check and done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise RuntimeError(f"{name} failed (rc {done.returncode}, log {log}.log):\n{tail}")
    return seconds, done


def changed(done: subprocess.CompletedProcess) -> dict[str, int]:
    """changed= per host in the run's recap."""
    return {
        m[0]: int(m[1])
        for m in re.findall(r"^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)", done.stdout, re.M)
    }


_BANNER = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(.*)\]")
_STAMP = re.compile(r"\((\d+):(\d+):(\d+\.\d+)\)\s+\d+:\d+:\d+\.\d+ \*+\s*$")


def task_times(done: subprocess.CompletedProcess) -> list[tuple[str, float]]:
    """Every task of a run with its wall time, in order, from profile_tasks' stamps: the stamp
    under a task's banner gives the time the task before it took."""
    times, pending, name = [], None, None
    for line in done.stdout.splitlines():
        banner = _BANNER.match(line)
        if banner:
            name = banner[1]
            continue
        if line.startswith("TASKS RECAP"):
            name = None
            continue
        stamp = _STAMP.search(line)
        if stamp:
            if pending is not None:
                hours, minutes, seconds = stamp.groups()
                times.append((pending, int(hours) * 3600 + int(minutes) * 60 + float(seconds)))
            pending = name
    return times


def slowest_tasks(done: subprocess.CompletedProcess, count: int = 8) -> list[list]:
    """The slowest tasks of a run, slowest first: [[task, seconds], ...]."""
    ordered = sorted(task_times(done), key=lambda row: -row[1])[:count]
    return [[name, round(seconds, 2)] for name, seconds in ordered]


def by_role(done: subprocess.CompletedProcess) -> dict:
    """Where a run's time went: task count, and seconds and tasks per role (the part of a task's
    name before " : "; tasks of a playbook itself count as "playbook"), largest first."""
    roles: dict[str, list] = {}
    times = task_times(done)
    for name, seconds in times:
        role = name.split(" : ", 1)[0] if " : " in name else "playbook"
        entry = roles.setdefault(role, [0.0, 0])
        entry[0] += seconds
        entry[1] += 1
    ordered = sorted(roles.items(), key=lambda item: -item[1][0])
    return {
        "tasks": len(times),
        "seconds": round(sum(seconds for _, seconds in times), 1),
        "median_task_s": round(statistics.median(s for _, s in times), 2) if times else 0.0,
        "roles": [[role, round(seconds, 1), count] for role, (seconds, count) in ordered],
    }


def on_host(pattern: str, command: str, *, inventory: Path = SANDBOX) -> str:
    """A shell command on inventory hosts as root; its output."""
    done = subprocess.run(
        [str(BIN / "ansible"), "-i", str(inventory), pattern, "-b", "-m", "ansible.builtin.shell",
         "-a", command],
        cwd=ROOT, env=env(), capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    return done.stdout.split(">>\n", 1)[-1]


def summary(values: list[float]) -> dict:
    """Median of the runs, with every run kept."""
    return {"median": round(statistics.median(values), 3), "runs": [round(v, 3) for v in values]}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


@functools.cache
def commit() -> str:
    """The commit the figures were measured on, "+changes" when the tree differed from it
    outside what a benchmark writes; read once, when the benchmarks start (bench.run calls it
    first), so commits made while they run do not relabel them."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()  # fmt: skip

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", ".", ":!bench/results", ":!bench/REPORT.md",
                ":!bench/charts")  # fmt: skip
    return head + ("+changes" if dirty else "")


def write(name: str, figures: dict) -> Path:
    """bench/results/<name>.json: the figures, the machine, the commit, when."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    body = {
        "name": name,
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": commit(),
        "machine": machine(),
        **figures,
    }
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path
