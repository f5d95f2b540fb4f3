"""Many outbox rows at once, their buttons already JSON: a digest run writes tens of thousands,
and thousands of residents share one keyboard, so it is encoded once, not once a row.

`enqueue_encoded` sends each batch as one multi-row INSERT: with RETURNING, SQLAlchemy's
"insertmanyvalues" puts up to 1,000 rows in one statement instead of one per row.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Text, bindparam, cast, insert, literal
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage
from storage.repo.outbox import WROTE_OUTBOX


def encode(value: Any) -> str:
    """JSON as the JSON column type writes it (`json.dumps`, SQLAlchemy's default)."""
    return json.dumps(value)


def encoded_row(
    platform: str, chat_id: str, chat_kind: str, text: str, buttons: str, now: datetime
) -> dict[str, Any]:
    """One outbox row for `enqueue_encoded`; `buttons` from `encode`."""
    return {
        "platform": platform, "chat_id": chat_id, "chat_kind": chat_kind, "text": text,
        "buttons_json": buttons, "created_at": now,
    }  # fmt: skip


def _as_json(text: ColumnElement[str], dialect: str) -> ColumnElement[Any]:
    # PostgreSQL's json column takes text only with a cast; SQLite keeps JSON as the text
    return cast(text, JSON) if dialect == "postgresql" else text


async def enqueue_encoded(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    stmt = (
        insert(table)
        .values(
            buttons=_as_json(bindparam("buttons_json", type_=Text()), dialect),
            extra=_as_json(literal("{}", Text()), dialect),
            attempts=0,
            failed=False,
        )
        .returning(table.c.id)
    )
    await session.exec(stmt, params=rows)
    session.info[WROTE_OUTBOX] = True
