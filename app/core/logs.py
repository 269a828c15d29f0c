"""One JSON object per log line (the seed's ``logging.format: json``), with secrets scrubbed."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from app import SERVICE_NAME, __version__

_HANDLED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "temporalio", "alembic")
_RESERVED = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line; extra= fields become keys of their own."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": SERVICE_NAME,
            "version": __version__,
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class SecretScrubber(logging.Filter):
    """Replaces every known secret in the final message with ***, whatever logged it."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        # Longest first, so a URL is replaced whole before the password inside it.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            record.msg = self.scrub(record.getMessage())
            record.args = None
        return True


def configure_logging(
    level: str, fmt: str, secrets: list[str], stream: TextIO | None = None
) -> SecretScrubber:
    """Route the root logger and the servers' loggers to stdout (or stream) in one format."""
    handler = logging.StreamHandler(stream or sys.stdout)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    scrubber = SecretScrubber(secrets)
    handler.addFilter(scrubber)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _HANDLED_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    return scrubber
