"""Secrets on the deployed sandbox: a -vvv deploy logs none of them, and rotate-secrets.yml
replaces the app's database and Redis passwords under load without one failed request.

Whether a password is the one a server holds is checked against what the server stores (Redis's
SHA-256 hash, PostgreSQL's SCRAM verifier), so no password is sent anywhere by the test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from tests.lifecycle.conftest import ROOT, app_health, run_on, run_playbook, tail
from tests.lifecycle.load import Load

SECRETS = ROOT / ".secrets" / "sandbox"


def _secrets() -> dict[str, str]:
    return {p.name: p.read_text().strip() for p in sorted(SECRETS.iterdir()) if p.is_file()}


def _leaked(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value in text]


def _redis_app_hashes() -> list[str]:
    line = run_on("data1", "grep '^user ecis ' /etc/redis/users.acl").strip()
    return [word[1:] for word in line.split() if word.startswith("#")]


def _scram_holds(verifier: str, password: str) -> bool:
    """Whether a PostgreSQL SCRAM-SHA-256 verifier was made from the password (RFC 5802)."""
    method, rest = verifier.split("$", 1)
    assert method == "SCRAM-SHA-256", method
    params, keys = rest.split("$")
    iterations, salt = params.split(":")
    stored_key, _server_key = keys.split(":")
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return hashlib.sha256(client_key).digest() == base64.b64decode(stored_key)


def _pg_verifier() -> str:
    query = "select rolpassword from pg_authid where rolname = 'ecis'"
    return run_on("data1", f'psql -p 5434 -Atc "{query}"', become_user="postgres").strip()


def test_a_verbose_deploy_logs_no_secret():
    done = run_playbook("deploy.yml", "-vvv", log="deploy-vvv")
    assert done.returncode == 0, tail(done)
    out = done.stdout + done.stderr
    # It was really verbose: -vvv shows each SSH connection and module invocation.
    assert "<172.30.107.20> ESTABLISH SSH CONNECTION" in out
    secrets = _secrets()
    assert {"db_password", "redis_password", "redis_admin_password", "temporal_ui_password"} <= set(
        secrets
    )
    assert _leaked(out, secrets) == []


def test_rotation_replaces_the_app_passwords_under_load(lb_url):
    before = _secrets()
    assert _redis_app_hashes() == [hashlib.sha256(before["redis_password"].encode()).hexdigest()]
    assert _scram_holds(_pg_verifier(), before["db_password"])
    versions = {h["version"] for h in app_health("/health/detailed").values()}

    load = Load(lb_url, version_ok=versions).start()
    try:
        done = run_playbook("rotate-secrets.yml", log="rotate-secrets")
    finally:
        load.stop()
    assert done.returncode == 0, tail(done)
    assert load.failures == [], load.failures[:10]
    assert load.sent > 50, "the load sent too little to prove anything"

    after = _secrets()
    assert after["db_password"] != before["db_password"]
    assert after["redis_password"] != before["redis_password"]
    for kept in ("redis_admin_password", "temporal_ui_password"):
        assert after[kept] == before[kept], kept
    assert "db_password.next" not in after, "the next database password was not promoted"
    # The app hosts no longer carry the old database password as a fallback.
    # (grep -c, so a failure message cannot show the env file's secrets)
    for host in ("app1", "app2"):
        count = run_on(
            host, "sh -c 'grep -c -e ^DATABASE_URL_PREVIOUS= /etc/ecis/orchestrator.env || :'"
        )
        assert count.strip() == "0", host
    # The servers hold the new passwords only.
    assert _redis_app_hashes() == [hashlib.sha256(after["redis_password"].encode()).hexdigest()]
    verifier = _pg_verifier()
    assert _scram_holds(verifier, after["db_password"])
    assert not _scram_holds(verifier, before["db_password"])
    # And the app reaches both with them.
    for name, health in app_health("/health/detailed").items():
        assert health["status"] == "healthy", (name, health)
    out = done.stdout + done.stderr
    assert _leaked(out, before) == [] and _leaked(out, after) == []
