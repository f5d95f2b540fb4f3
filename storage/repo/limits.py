"""What counts towards a person's per-hour limits, read from the rows themselves.

Reports and ideas are counted from their own rows (`Signal.created_at`, `Idea.created_at`);
changed poll votes and budget proposals, which leave no dated row of their own, from
`CountedAction`. So a limit holds across restarts, chats and platforms: it is per person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlmodel import col, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import CountedAction, Idea, Signal

Action = Literal["report", "idea", "proposal", "vote"]
ACTIONS: tuple[Action, ...] = get_args(Action)


async def recent(
    session: AsyncSession, action: Action, person_id: int, since: datetime, limit: int
) -> list[datetime]:
    """When the person did `action` after `since`: at most `limit` moments, newest first."""
    if action == "report":
        stmt = select(Signal.created_at).where(
            col(Signal.reporter_id) == person_id, col(Signal.created_at) > since
        )
        stmt = stmt.order_by(col(Signal.created_at).desc())
    elif action == "idea":
        stmt = select(Idea.created_at).where(
            col(Idea.author_id) == person_id, col(Idea.created_at) > since
        )
        stmt = stmt.order_by(col(Idea.created_at).desc())
    else:
        stmt = select(CountedAction.created_at).where(
            col(CountedAction.person_id) == person_id,
            col(CountedAction.action) == action,
            col(CountedAction.created_at) > since,
        )
        stmt = stmt.order_by(col(CountedAction.created_at).desc())
    return list((await session.exec(stmt.limit(limit))).all())


async def count(session: AsyncSession, action: Action, person_id: int) -> None:
    """Remember that the person did `action` now (only for actions without a dated row)."""
    assert action not in ("report", "idea"), "counted from their own rows"
    session.add(CountedAction(person_id=person_id, action=action))
    await session.flush()


async def counted_for(session: AsyncSession, person_id: int) -> int:
    """How many counted actions of the person are kept (for /mijngegevens)."""
    stmt = select(func.count()).select_from(CountedAction)
    return int((await session.exec(stmt.where(col(CountedAction.person_id) == person_id))).one())


async def purge(session: AsyncSession, before: datetime) -> int:
    """Forget counted actions from before `before` (they no longer count)."""
    result = await session.exec(delete(CountedAction).where(col(CountedAction.created_at) < before))
    return int(result.rowcount or 0)
