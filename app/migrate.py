"""``ecis-migrate``: alembic for the migrations shipped in the package, configured from settings.

Used on hosts, where no alembic.ini sits beside the code: ``ecis-migrate upgrade head``,
``ecis-migrate downgrade -1``, ``ecis-migrate current``.
"""

from __future__ import annotations

import sys

from alembic import command

from app.core.config import get_settings
from app.core.logs import configure_logging
from app.core.schema import alembic_config

_COMMANDS = {
    "upgrade": lambda cfg, rev: command.upgrade(cfg, rev),
    "downgrade": lambda cfg, rev: command.downgrade(cfg, rev),
    "current": lambda cfg, _rev: command.current(cfg),
    "heads": lambda cfg, _rev: command.heads(cfg),
    "history": lambda cfg, _rev: command.history(cfg),
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in _COMMANDS:
        print(f"usage: ecis-migrate {{{'|'.join(_COMMANDS)}}} [revision]", file=sys.stderr)
        return 2
    name, revision = args[0], (args[1] if len(args) > 1 else "head")
    if name in ("upgrade", "downgrade") and len(args) < 2:
        print(f"ecis-migrate {name}: a target revision is required", file=sys.stderr)
        return 2
    settings = get_settings()
    configure_logging(settings.LOG_LEVEL, settings.LOG_FORMAT, settings.secret_values())
    _COMMANDS[name](alembic_config(settings.sqlalchemy_url), revision)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
