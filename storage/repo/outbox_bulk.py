"""Many outbox rows at once, their buttons already JSON: a digest run writes tens of thousands,
and thousands of residents share one keyboard, so it is encoded once, not once a row.

`enqueue_encoded` writes a batch in one statement. On PostgreSQL that is an INSERT from one
JSON array of rows: a multi-row VALUES of 1,000 rows has 9,000 parameters, which psycopg
spends ~0.1 s parsing; text arrays cost as much in psycopg's escaping of every quote; and
psycopg's own executemany sends one INSERT per row.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, insert, literal
from sqlalchemy import text as sql
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage
from storage.repo.outbox import WROTE_OUTBOX
from storage.types import UTCDateTime

Row = tuple[str, str, str, str, str]  # platform, chat id, chat kind, text, buttons (JSON)

_FROM_JSON = sql(
    f"INSERT INTO {OutboxMessage.__tablename__}"
    " (platform, chat_id, chat_kind, text, buttons, extra, attempts, failed, created_at)"
    " SELECT r.e->>0, r.e->>1, r.e->>2, r.e->>3, CAST(r.e->>4 AS JSON), CAST('{}' AS JSON),"
    " 0, false, :now"
    " FROM jsonb_array_elements(CAST(:rows AS JSONB)) WITH ORDINALITY AS r(e, n) ORDER BY r.n"
).bindparams(bindparam("now", type_=UTCDateTime()))


def encode(value: Any) -> str:
    """JSON as the JSON column type writes it (`json.dumps`, SQLAlchemy's default)."""
    return json.dumps(value)


async def enqueue_encoded(session: AsyncSession, rows: list[Row], now: datetime) -> None:
    """Messages made at `now`, their buttons from `encode`, written in this order."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        batch = json.dumps(rows, ensure_ascii=False)
        await session.exec(_FROM_JSON, params={"now": now, "rows": batch})  # type: ignore[call-overload]
    else:  # SQLite keeps JSON as its text; sqlite3 runs the batch itself (executemany)
        stmt = insert(OutboxMessage.__table__).values(  # type: ignore[attr-defined]
            buttons=bindparam("buttons_json", type_=Text()), extra=literal("{}", Text()),
            attempts=0, failed=False, created_at=bindparam("now", now, type_=UTCDateTime()),
        )  # fmt: skip
        await session.exec(stmt, params=[
            {"platform": p, "chat_id": c, "chat_kind": k, "text": t, "buttons_json": b}
            for p, c, k, t, b in rows
        ])  # fmt: skip
    session.info[WROTE_OUTBOX] = True
