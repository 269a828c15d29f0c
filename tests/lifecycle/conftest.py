"""The lifecycle tests drive the product's own playbooks against a deployed inventory.

Run by molecule's `lifecycle` scenario (molecule/lifecycle/verify.yml) on the sandbox hosts,
which it has deployed first. ECIS_INVENTORY names the inventory (default: the sandbox).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".cache" / "lifecycle"


def inventory() -> Path:
    return ROOT / os.environ.get("ECIS_INVENTORY", "inventories/sandbox")


def run_playbook(
    name: str, *extra: str, log: str, inventory_path: Path | None = None
) -> subprocess.CompletedProcess:
    """ansible-playbook as an operator runs it; the whole output goes to .cache/lifecycle/."""
    LOGS.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i",
         str(inventory_path or inventory()), f"playbooks/{name}", *extra],
        cwd=ROOT,
        env=_plain_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )  # fmt: skip
    # Molecule forces colour on its children; the tests read plain text.
    done.stdout, done.stderr = _ANSI.sub("", done.stdout), _ANSI.sub("", done.stderr)
    (LOGS / f"{log}.log").write_text(done.stdout + done.stderr)
    return done


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _plain_env() -> dict[str, str]:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    env.pop("ANSIBLE_FORCE_COLOR", None)
    return env


def run_on(pattern: str, command: str, *, become_user: str = "root") -> str:
    """A command on inventory hosts through ansible (sudo to become_user); its stdout."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "-i", str(inventory()), pattern, "-b",
         "--become-user", become_user, "-m", "ansible.builtin.command", "-a", command],
        cwd=ROOT,
        env=_plain_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )  # fmt: skip
    # "<host> | CHANGED | rc=0 >>" then the command's output.
    return done.stdout.split(">>\n", 1)[-1]


def schema_revision(release: str) -> str:
    """The database's alembic revision, read on the first app host with a release's code."""
    out = run_on(
        "app[0]",
        f"/usr/local/sbin/ecis-migrate-env /etc/ecis/orchestrator.env /opt/ecis/releases/{release}"
        " status",
        become_user="ecis",
    )
    report, _ = json.JSONDecoder().raw_decode(out[out.index("{") :])
    return report["current"]


def said(done: subprocess.CompletedProcess, text: str) -> bool:
    """Whether the run's output says text, however the callback wrapped its lines."""
    return text in " ".join((done.stdout + done.stderr).split())


def tail(done: subprocess.CompletedProcess, lines: int = 40) -> str:
    return "\n".join((done.stdout + done.stderr).splitlines()[-lines:])


def group_addresses(group: str) -> dict[str, str]:
    """Host name -> address of an inventory group, from its hosts.yml."""
    hosts = yaml.safe_load((inventory() / "hosts.yml").read_text())["all"]["children"]
    return {name: spec["ansible_host"] for name, spec in hosts[group]["hosts"].items()}


def app_health(path: str = "/health") -> dict[str, dict]:
    """What each app host answers on path, asked directly (not through the balancer)."""
    return {
        name: httpx.get(f"http://{address}:8200{path}", timeout=10).json()
        for name, address in group_addresses("app").items()
    }


@pytest.fixture(scope="session")
def lb_url() -> str:
    return f"http://{next(iter(group_addresses('lb').values()))}:8200"


def make_release(workdir: Path, version: str, *, migration: bool, broken: bool) -> Path:
    """A copy of the app's source at another version, optionally with an expand migration or a
    /health that fails, the way a developer would make the next release."""
    source = workdir / f"ecis-{version}"
    shutil.copytree(ROOT / "app", source / "app", ignore=shutil.ignore_patterns("__pycache__"))
    pyproject = (ROOT / "pyproject.toml").read_text()
    pyproject = re.sub(r'(?m)^version = "[^"]+"', f'version = "{version}"', pyproject)
    (source / "pyproject.toml").write_text(pyproject)
    if migration:
        shutil.copy(
            Path(__file__).parent / "next_release/0003_orchestration_note.py",
            source / "app/migrations/versions/",
        )
    if broken:
        health = source / "app/api/routes/health.py"
        text = health.read_text().replace(
            '    """Liveness: the process answers. Dependencies are in /health/detailed."""\n',
            '    """Liveness: the process answers. Dependencies are in /health/detailed."""\n'
            '    raise RuntimeError("this release is broken on purpose")\n',
        )
        health.write_text(text)
    return source
