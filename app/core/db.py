"""The database engine and the tables the app writes (SQLAlchemy 2, psycopg 3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, event, func, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core.config import Settings


class Base(DeclarativeBase):
    pass


class Orchestration(Base):
    __tablename__ = "orchestrations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StepResult(Base):
    __tablename__ = "step_results"

    orchestration_id: Mapped[str] = mapped_column(
        ForeignKey("orchestrations.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20))
    result: Mapped[Any] = mapped_column(JSON, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    finished_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


def _password_refused(exc: Exception) -> bool:
    return getattr(exc, "sqlstate", None) == "28P01" or "password authentication failed" in str(exc)


def make_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        settings.sqlalchemy_url,
        pool_size=settings.DATABASE_POOL_SIZE,
        max_overflow=settings.DATABASE_MAX_OVERFLOW,
        pool_pre_ping=True,
        pool_timeout=settings.HEALTH_CHECK_TIMEOUT * 2,
        connect_args={"connect_timeout": max(1, int(settings.HEALTH_CHECK_TIMEOUT))},
    )
    if settings.DATABASE_URL_PREVIOUS is not None:
        previous = make_url(settings.DATABASE_URL_PREVIOUS.get_secret_value())

        # During a password rotation the app holds the new password before PostgreSQL does:
        # a connection refused with it is made again with the previous one.
        @event.listens_for(engine.sync_engine, "do_connect")
        def _previous_password(dialect, conn_rec, cargs, cparams):
            try:
                return dialect.connect(*cargs, **cparams)
            except Exception as exc:
                if not _password_refused(exc):
                    raise
            cparams.update(user=previous.username, password=previous.password)
            return dialect.connect(*cargs, **cparams)

    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)
