"""``ecis-migrate``: alembic for the migrations shipped in the package, configured from settings.

Used on hosts, where no alembic.ini sits beside the code: ``ecis-migrate upgrade head``,
``ecis-migrate downgrade -1``, ``ecis-migrate current``, and ``ecis-migrate status``, which
prints one JSON object (current revision, this code's head, what upgrade would apply) for
playbooks to read. Logs go to stderr so that stdout stays machine-readable.
"""

from __future__ import annotations

import json
import sys

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from app.core.config import get_settings
from app.core.logs import configure_logging
from app.core.schema import alembic_config


def status(cfg, target: str) -> None:
    """Print where the schema is and what reaching target (default head) takes, as one JSON line.

    {"current", "head", "target", "known", "upgrade": [...], "downgrade": [...], "pending"}:
    upgrade lists the revisions that would be applied, downgrade those that would be undone
    (a downgrade may drop data); pending is upgrade, kept for readers of the head case.
    """
    script = ScriptDirectory.from_config(cfg)
    engine = create_engine(cfg.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    head = script.get_current_head()
    target = head if target in (None, "head") else script.get_revision(target).revision
    known = current is None or current in {rev.revision for rev in script.walk_revisions()}
    upgrade: list[str] = []
    downgrade: list[str] = []
    if known and current != target:
        below = {rev.revision for rev in script.iterate_revisions(current, "base")}
        if current is not None and target in below:
            downgrade = [rev.revision for rev in script.iterate_revisions(current, target)]
        else:
            upgrade = [rev.revision for rev in script.iterate_revisions(target, current)][::-1]
    report = {
        "current": current,
        "head": head,
        "target": target,
        "known": known,
        "upgrade": upgrade,
        "downgrade": downgrade,
        "pending": upgrade,
    }
    print(json.dumps(report), flush=True)


_COMMANDS = {
    "upgrade": lambda cfg, rev: command.upgrade(cfg, rev),
    "downgrade": lambda cfg, rev: command.downgrade(cfg, rev),
    "current": lambda cfg, _rev: command.current(cfg),
    "heads": lambda cfg, _rev: command.heads(cfg),
    "history": lambda cfg, _rev: command.history(cfg),
    "status": status,
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
    configure_logging(
        settings.LOG_LEVEL, settings.LOG_FORMAT, settings.secret_values(), stream=sys.stderr
    )
    _COMMANDS[name](alembic_config(settings.sqlalchemy_url), revision)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
