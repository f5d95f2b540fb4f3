"""One datetime column type: timezone-aware UTC in, timezone-aware UTC out, on both databases.

PostgreSQL keeps the zone (`timestamptz`); SQLite keeps text without one, hands back naive
values, and would store an Amsterdam time as if it were UTC. This type converts every value
to UTC on the way in (a naive one is refused: it names no moment) and marks what comes back
as UTC, so no reader needs an `aware()` helper.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"a stored moment must be timezone-aware, not {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
