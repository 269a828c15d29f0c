"""Settings from the environment (the seed's variables) and, optionally, a YAML config file.

Precedence, highest first: environment variables, the file named by ECIS_CONFIG_FILE (its
``${VAR}`` references expanded from the environment), then the defaults below.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    AnyUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# Where each key of the seed's config/production.yaml lands among the flat settings.
_YAML_KEYS: dict[tuple[str, str], str] = {
    ("database", "url"): "DATABASE_URL",
    ("database", "pool_size"): "DATABASE_POOL_SIZE",
    ("database", "max_overflow"): "DATABASE_MAX_OVERFLOW",
    ("redis", "url"): "REDIS_URL",
    ("redis", "max_connections"): "REDIS_MAX_CONNECTIONS",
    ("redis", "socket_timeout"): "REDIS_SOCKET_TIMEOUT",
    ("redis", "retries"): "REDIS_RETRIES",
    ("temporal", "host"): "TEMPORAL_HOST",
    ("temporal", "namespace"): "TEMPORAL_NAMESPACE",
    ("temporal", "task_queue"): "TEMPORAL_TASK_QUEUE",
    ("api", "host"): "API_HOST",
    ("api", "port"): "API_PORT",
    ("api", "workers"): "API_WORKERS",
    ("logging", "level"): "LOG_LEVEL",
    ("logging", "format"): "LOG_FORMAT",
    ("federation", "enabled"): "FEDERATION_ENABLED",
    ("federation", "gateway_url"): "FEDERATION_GATEWAY_URL",
}
_VAR_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(SystemExit):
    """A setting is missing or invalid; the message names it and says what was expected."""


def _expand(value: str) -> str | None:
    """Expand ``${VAR}`` and ``${VAR:-default}``; None when the whole value is an unset VAR."""
    whole = _VAR_REF.fullmatch(value)
    if whole and whole.group(1) not in os.environ and whole.group(2) is None:
        return None
    return _VAR_REF.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)


def read_config_file(path: Path) -> dict[str, Any]:
    """Flatten a config file in the seed's shape into setting names."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"ECIS_CONFIG_FILE: cannot read {path}: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"ECIS_CONFIG_FILE: {path} must hold a mapping of sections")
    flat: dict[str, Any] = {}
    for section, body in document.items():
        if not isinstance(body, dict):
            raise ConfigError(f"ECIS_CONFIG_FILE: section '{section}' must be a mapping")
        for key, value in body.items():
            name = _YAML_KEYS.get((section, key))
            if name is None:
                raise ConfigError(f"ECIS_CONFIG_FILE: unknown key '{section}.{key}' in {path}")
            if isinstance(value, str):
                value = _expand(value)
                if value is None:
                    continue
            flat[name] = value
    return flat


class _ConfigFileSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = os.environ.get("ECIS_CONFIG_FILE")
        self._values = read_config_file(Path(path)) if path else {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._values)


class Settings(BaseSettings):
    """Every knob of the API and the worker. Names are the seed's environment variables."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    # A connection string carries a password, so there is no default: the deployment provides it.
    DATABASE_URL: SecretStr
    # Set only while the app's database password is rotated: the URL with the password
    # PostgreSQL may still hold. A new connection whose password is refused tries it.
    DATABASE_URL_PREVIOUS: SecretStr | None = None
    DATABASE_POOL_SIZE: int = Field(default=20, ge=1)
    DATABASE_MAX_OVERFLOW: int = Field(default=10, ge=0)
    REDIS_URL: SecretStr = SecretStr("redis://localhost:6380/0")
    REDIS_MAX_CONNECTIONS: int = Field(default=50, ge=1)
    # Per Redis attempt; a command is tried 1 + REDIS_RETRIES times on a connection error or
    # timeout, so a Redis that is down answers a request within about (1 + retries) x timeout.
    REDIS_SOCKET_TIMEOUT: float = Field(default=2.0, gt=0)
    REDIS_RETRIES: int = Field(default=3, ge=0)
    TEMPORAL_HOST: str = "localhost:7233"
    TEMPORAL_NAMESPACE: str = Field(default="default", min_length=1)
    TEMPORAL_TASK_QUEUE: str = Field(default="ecis-orchestrator", min_length=1)
    # TLS towards a Temporal cluster this project did not install (the role's external flavor).
    TEMPORAL_TLS_ENABLED: bool = False
    TEMPORAL_TLS_CA_FILE: Path | None = None
    TEMPORAL_TLS_CERT_FILE: Path | None = None
    TEMPORAL_TLS_KEY_FILE: Path | None = None
    TEMPORAL_TLS_SERVER_NAME: str | None = None
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    LOG_FORMAT: Literal["json", "text"] = "json"
    API_HOST: str = "0.0.0.0"  # the seed's default; the deployment sets the private address
    API_PORT: int = Field(default=8200, ge=1, le=65535)
    API_WORKERS: int = Field(default=1, ge=1)
    FEDERATION_ENABLED: bool = False
    FEDERATION_GATEWAY_URL: AnyUrl | None = None
    # How long a repeated Idempotency-Key keeps returning the first answer.
    IDEMPOTENCY_TTL_SECONDS: int = Field(default=86400, ge=1)
    # Seconds the worker lets in-flight activities finish after SIGTERM.
    WORKER_SHUTDOWN_TIMEOUT: float = Field(default=30.0, ge=0)
    # A step's activity is retried elsewhere when its worker stops heartbeating this long.
    ACTIVITY_HEARTBEAT_TIMEOUT: float = Field(default=10.0, gt=0)
    # Per-dependency timeout of the health checks, in seconds.
    HEALTH_CHECK_TIMEOUT: float = Field(default=2.0, gt=0)

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("DATABASE_URL", "DATABASE_URL_PREVIOUS")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        if not re.match(r"^postgres(ql)?(\+psycopg)?://", value.get_secret_value()):
            raise ValueError("expected a postgresql:// connection string")
        return value

    @field_validator("REDIS_URL")
    @classmethod
    def _redis_url(cls, value: SecretStr) -> SecretStr:
        if not re.match(r"^rediss?://", value.get_secret_value()):
            raise ValueError("expected a redis:// or rediss:// URL")
        return value

    @field_validator("TEMPORAL_HOST")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9._\-\[\]:]+:\d{1,5}", value):
            raise ValueError("expected host:port")
        return value

    @model_validator(mode="after")
    def _federation_needs_gateway(self) -> Settings:
        if self.FEDERATION_ENABLED and self.FEDERATION_GATEWAY_URL is None:
            raise ValueError("FEDERATION_GATEWAY_URL is required when FEDERATION_ENABLED is true")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _ConfigFileSource(settings_cls))

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL with the psycopg 3 driver named, as SQLAlchemy wants it."""
        url = self.DATABASE_URL.get_secret_value()
        return re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql+psycopg://", url)

    def secret_values(self) -> list[str]:
        """Every secret string in the settings, so log lines and answers can be scrubbed."""
        secrets = []
        for url in (self.DATABASE_URL, self.DATABASE_URL_PREVIOUS, self.REDIS_URL):
            if url is None:
                continue
            raw = url.get_secret_value()
            match = re.match(r"^[a-z+]+://[^:@/]*:([^@/]+)@", raw)
            if match:
                secrets.append(match.group(1))
            secrets.append(raw)
        return [s for s in secrets if s]


def describe_error(exc: ValidationError) -> str:
    """One line per bad setting: its name and what was expected, never the value given."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is required and not set"
        lines.append(f"{name}: {message}")
    return "configuration error: " + "; ".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; a bad or missing one stops the process with its name."""
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(describe_error(exc)) from None
