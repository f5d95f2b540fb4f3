"""What every table shares: the naming convention, time stamps by the app's clock, and a
guard against NUL characters (imported before any table is defined)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Mapper
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _system_now() -> datetime:
    return datetime.now(UTC)


_now: Callable[[], datetime] = _system_now


def use_clock(now: Callable[[], datetime] | None) -> None:
    """Time stamps (`created_at` …) come from this clock: the app's, so that a test clock
    and the rows it writes agree. None: the system clock."""
    global _now
    _now = now or _system_now


def utcnow() -> datetime:
    return _now()


@event.listens_for(SQLModel, "before_insert", propagate=True)
@event.listens_for(SQLModel, "before_update", propagate=True)
def _no_nul(_mapper: Mapper[Any], _connection: Any, row: SQLModel) -> None:
    """PostgreSQL refuses a NUL character in text, SQLite keeps it: neither stores one.

    The bot cleans what people type where it comes in (`bot.core.middlewares.clean_input`);
    this guard is for text from elsewhere (imports, platforms, a new handler).
    """
    for column in row.__table__.columns:  # type: ignore[attr-defined]
        value = getattr(row, column.key, None)
        if isinstance(value, str) and "\x00" in value:
            setattr(row, column.key, value.replace("\x00", ""))


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime(), **kw)
