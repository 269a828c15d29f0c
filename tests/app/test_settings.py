"""Settings: the seed's variables and defaults, the YAML file, refusals naming the bad one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.core.config import ConfigError, Settings, get_settings

BASE = {"DATABASE_URL": "postgresql://ecis:pw-in-test@127.0.0.1:1/ecis"}


@pytest.fixture
def environ(monkeypatch):
    for name in list(os.environ):
        if name.isupper() and name not in ("PATH", "HOME"):
            monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_seed_defaults(environ):
    for name, value in BASE.items():
        environ.setenv(name, value)
    settings = get_settings()
    assert settings.REDIS_URL.get_secret_value() == "redis://localhost:6380/0"
    assert settings.TEMPORAL_HOST == "localhost:7233"
    assert settings.TEMPORAL_NAMESPACE == "default"
    assert settings.TEMPORAL_TASK_QUEUE == "ecis-orchestrator"
    assert settings.LOG_LEVEL == "INFO"
    assert settings.API_HOST == "0.0.0.0"
    assert settings.API_PORT == 8200
    assert settings.FEDERATION_ENABLED is False
    assert settings.FEDERATION_GATEWAY_URL is None
    assert "pw-in-test" not in repr(settings)


def test_yaml_file_in_the_seed_shape_is_expanded_from_the_environment(environ, tmp_path):
    config = tmp_path / "production.yaml"
    config.write_text(
        "database:\n  url: ${DATABASE_URL}\n  pool_size: 7\n  max_overflow: 3\n"
        "redis:\n  url: ${REDIS_URL}\n  max_connections: 9\n"
        "temporal:\n  host: ${TEMPORAL_HOST}\n  namespace: ${TEMPORAL_NAMESPACE}\n"
        "  task_queue: ${TEMPORAL_TASK_QUEUE}\n"
        "api:\n  host: ${API_HOST}\n  port: ${API_PORT}\n  workers: 4\n"
        "logging:\n  level: ${LOG_LEVEL}\n  format: json\n"
    )
    environ.setenv("ECIS_CONFIG_FILE", str(config))
    environ.setenv("DATABASE_URL", BASE["DATABASE_URL"])
    environ.setenv("TEMPORAL_HOST", "temporal1:7233")
    # REDIS_URL, API_PORT, ... unset: the file's ${VAR} falls back to the default.
    settings = get_settings()
    assert settings.DATABASE_POOL_SIZE == 7
    assert settings.DATABASE_MAX_OVERFLOW == 3
    assert settings.REDIS_MAX_CONNECTIONS == 9
    assert settings.TEMPORAL_HOST == "temporal1:7233"
    assert settings.API_PORT == 8200
    assert settings.API_WORKERS == 4
    assert settings.REDIS_URL.get_secret_value() == "redis://localhost:6380/0"


def test_environment_wins_over_the_file(environ, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("api:\n  port: 9000\n")
    environ.setenv("ECIS_CONFIG_FILE", str(config))
    environ.setenv("DATABASE_URL", BASE["DATABASE_URL"])
    assert get_settings().API_PORT == 9000
    get_settings.cache_clear()
    environ.setenv("API_PORT", "9100")
    assert get_settings().API_PORT == 9100


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, "DATABASE_URL: is required"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL: expected a postgresql://"),
        ({**BASE, "API_PORT": "eighty"}, "API_PORT: Input should be a valid integer"),
        ({**BASE, "API_PORT": "70000"}, "API_PORT: Input should be less than or equal to 65535"),
        ({**BASE, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL: Input should be 'DEBUG'"),
        ({**BASE, "TEMPORAL_HOST": "no-port"}, "TEMPORAL_HOST: expected host:port"),
        ({**BASE, "REDIS_URL": "http://x"}, "REDIS_URL: expected a redis://"),
        ({**BASE, "FEDERATION_ENABLED": "true"}, "FEDERATION_GATEWAY_URL is required"),
    ],
)
def test_bad_setting_is_refused_naming_it(environ, env, names):
    for name, value in env.items():
        environ.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        get_settings()
    assert names in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_key_in_the_file_is_refused(environ, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("api:\n  prot: 1\n")
    environ.setenv("ECIS_CONFIG_FILE", str(config))
    with pytest.raises(ConfigError, match=r"unknown key 'api.prot'"):
        Settings()


@pytest.mark.parametrize(
    "program",
    [
        [os.path.join(os.path.dirname(sys.executable), "uvicorn"), "app.main:app"],
        [sys.executable, "-m", "app.workers.main_worker"],
    ],
)
def test_processes_stop_at_start_with_one_line_naming_the_setting(program):
    done = subprocess.run(
        program,
        env={"PATH": os.environ["PATH"], **BASE, "API_PORT": "eighty"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "configuration error: API_PORT: Input should be a valid integer" in done.stderr
    assert "pw-in-test" not in done.stderr + done.stdout
