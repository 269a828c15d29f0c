"""Exposure, proved from the wrong side: each port the stack serves is tried from a host that must
not reach it (refused) and from one that must (answered), so a check cannot pass by accident.
Credentials are tried the same way: the app's own Redis and PostgreSQL logins, read from its env
file on an app host, are refused what they must not do and allowed what they need.

The network checks need a host outside the allowed group; on an inventory that puts every group
on one host (the dev all-in-one) there is none, and they are skipped with that reason.
"""

from __future__ import annotations

import shlex
import ssl

import httpx
import pytest
from conftest import connect, inventory

ENV_FILE = "/etc/ecis/orchestrator.env"
APP_PYTHON = "/opt/ecis/current/venv/bin/python"


def _hosts(group: str) -> list[str]:
    return sorted(n for n, h in inventory().items() if group in h["groups"])


def _outsider(*groups: str) -> str | None:
    """A host in none of the groups, whose address the firewall does not trust."""
    for name, spec in sorted(inventory().items()):
        if not set(groups) & set(spec["groups"]) and spec["address"] not in spec["trusted_sources"]:
            return name
    return None


def _reaches(source: str, target: str, port: int) -> bool:
    """Whether a TCP connection from the source host to the target's port is accepted."""
    address = inventory()[target]["address"]
    code = (
        "import socket, sys\n"
        "try:\n"
        f"    socket.create_connection(({address!r}, {port}), timeout=3).close()\n"
        "except OSError as exc:\n"
        "    sys.exit(f'refused: {exc}')\n"
    )
    return connect(inventory()[source]).run(f"python3 -c {shlex.quote(code)}").rc == 0


# (group serving, port key or number, groups allowed to connect)
PORTS = [
    pytest.param("postgres", 5434, ["app"], id="postgresql"),
    pytest.param("redis", 6380, ["app"], id="redis"),
    pytest.param("temporal", 7233, ["app"], id="temporal-frontend"),
    pytest.param("temporal", "temporal_ui_port", ["lb"], id="temporal-ui"),
    pytest.param("app", "api_port", ["lb"], id="app-api"),
]


@pytest.mark.parametrize(("group", "port", "allowed"), PORTS)
def test_port_is_closed_to_the_wrong_hosts_and_open_to_the_right_ones(group, port, allowed):
    targets = _hosts(group)
    assert targets, f"no host in group {group}"
    target = targets[0]
    number = inventory()[target][port] if isinstance(port, str) else port
    outsider = _outsider(group, *allowed)
    if outsider is None or not inventory()[target]["firewall"]:
        pytest.skip(f"no host outside {group} and {allowed}, or the firewall is off")
    assert not _reaches(outsider, target, number), f"{outsider} reached {target}:{number}"
    insider = _hosts(allowed[0])[0]
    assert _reaches(insider, target, number), f"{insider} could not reach {target}:{number}"


def _as_the_app(code: str) -> tuple[int, str]:
    """Run Python on an app host with the app's own settings (its env file), as root."""
    app = connect(inventory()[_hosts("app")[0]])
    script = f"set -a; . {ENV_FILE}; set +a; exec {APP_PYTHON} -c {shlex.quote(code)}"
    out = app.run(f"bash -c {shlex.quote(script)}")
    return out.rc, out.stdout + out.stderr


def test_the_apps_redis_user_is_denied_dangerous_commands():
    rc, out = _as_the_app(
        "import os, redis\n"
        "r = redis.Redis.from_url(os.environ['REDIS_URL'])\n"
        "assert r.ping()\n"
        "r.set('ecis:exposure-test', '1'); r.delete('ecis:exposure-test')\n"
        "for command in (['FLUSHALL'], ['FLUSHDB'], ['CONFIG', 'GET', 'maxmemory'],\n"
        "                ['DEBUG', 'SLEEP', '0'], ['SHUTDOWN'], ['KEYS', '*']):\n"
        "    try:\n"
        "        r.execute_command(*command)\n"
        "    except redis.exceptions.NoPermissionError:\n"
        "        print('denied', command[0])\n"
        # DEBUG is refused by the server itself (enable-debug-command no) before the ACL.
        "    except redis.exceptions.ResponseError as exc:\n"
        "        assert command[0] == 'DEBUG' and 'DEBUG command not allowed' in str(exc), exc\n"
        "        print('denied', command[0])\n"
        "    else:\n"
        "        raise SystemExit(f'allowed: {command}')\n"
    )
    assert rc == 0, out
    assert out.count("denied") == 6, out


def test_redis_without_credentials_is_refused_from_an_app_host():
    redis_host = inventory()[_hosts("redis")[0]]["address"]
    rc, out = _as_the_app(
        "import redis\n"
        f"r = redis.Redis(host={redis_host!r}, port=6380)\n"
        "try:\n"
        "    r.ping()\n"
        "except redis.exceptions.AuthenticationError as exc:\n"
        "    print('refused:', exc)\n"
        "else:\n"
        "    raise SystemExit('the default user answered')\n"
    )
    assert rc == 0 and "refused" in out, out


def test_the_apps_database_login_reaches_only_its_own_database():
    rc, out = _as_the_app(
        "import os, psycopg\n"
        "url = os.environ['DATABASE_URL']\n"
        "with psycopg.connect(url) as c:\n"
        "    assert c.execute('select 1').fetchone() == (1,)\n"
        "base, _ = url.rsplit('/', 1)\n"
        "try:\n"
        "    psycopg.connect(base + '/postgres', connect_timeout=5)\n"
        "except psycopg.OperationalError as exc:\n"
        "    print('refused:', 'no pg_hba.conf entry' in str(exc))\n"
        "else:\n"
        "    raise SystemExit('the app login opened the postgres database')\n"
    )
    assert rc == 0 and "refused: True" in out, out


def test_the_postgres_superuser_is_refused_over_the_network():
    node = inventory()[_hosts("postgres")[0]]
    host = connect(node)
    out = host.run(
        f"sudo -u postgres psql -h {node['address']} -p 5434 -U postgres -w -Atc 'select 1'"
    )
    assert out.rc != 0
    assert "no pg_hba.conf entry" in out.stderr, out.stderr
    # Over the local socket it is allowed: the check above fails for the right reason.
    assert host.run("sudo -u postgres psql -p 5434 -Atc 'select 1'").stdout.strip() == "1"


def _lb() -> dict:
    return inventory()[_hosts("lb")[0]]


def test_the_temporal_ui_is_refused_without_credentials_and_served_with_them():
    lb = _lb()
    if lb["ui_exposure"] != "loadbalancer":
        pytest.skip("the UI is on the Temporal host's loopback (test_temporal checks it)")
    scheme = "https" if lb["tls"] else "http"
    url = f"{scheme}://{lb['address']}:8233/"
    with httpx.Client(verify=False, timeout=10) as client:
        anonymous = client.get(url)
        wrong = client.get(url, auth=(lb["ui_user"], "not-the-password"))
        right = client.get(url, auth=(lb["ui_user"], lb["ui_password"]))
    assert anonymous.status_code == 401
    assert wrong.status_code == 401
    assert right.status_code == 200 and "<html" in right.text.lower()


def test_the_ui_on_loopback_is_not_served_by_the_load_balancer():
    lb = _lb()
    if lb["ui_exposure"] != "localhost":
        pytest.skip("the UI is served through HAProxy in this inventory")
    temporal = inventory()[_hosts("temporal")[0]]
    # The load balancer does not serve the UI's port (it is closed or refused), and the Temporal
    # host serves the UI on its loopback.
    with pytest.raises((httpx.ConnectError, httpx.ConnectTimeout)):
        httpx.get(f"http://{lb['address']}:8233/", timeout=5)
    out = connect(temporal).check_output(
        'python3 -c "import urllib.request; print(urllib.request.urlopen('
        f"'http://127.0.0.1:{temporal['temporal_ui_port']}/').status)\""
    )
    assert out == "200"


def test_the_api_answers_over_tls_when_it_is_on():
    lb = _lb()
    if not lb["tls"]:
        pytest.skip("TLS is off in this inventory")
    with httpx.Client(verify=False, timeout=10) as client:
        answer = client.get(f"https://{lb['address']}:8443/health")
    assert answer.status_code == 200 and answer.json()["status"] == "healthy"
    served = ssl.get_server_certificate((lb["address"], 8443))
    if lb["tls_certificate"]:
        # The certificate the inventory gave is the one served.
        assert served.strip() == lb["tls_certificate"].strip()
    else:
        # A self-signed one, made on the host for its address.
        assert served.startswith("-----BEGIN CERTIFICATE-----")
