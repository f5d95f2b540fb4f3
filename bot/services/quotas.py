"""Per-person limits on what one person can add in an hour, so nobody floods a neighbourhood.

The numbers are far above what a neighbour needs and far below what buries a coordinator:

- reports 10 an hour: a neighbourhood walk that finds ten broken things is rare; a
  coordinator triages by hand, so fifty junk reports an hour would hide the real ones.
- ideas 10 an hour: more is a list, better shared at a meeting; every idea is shown to
  the whole neighbourhood.
- budget proposals 5 an hour: each one is checked by a coordinator for feasibility.
- poll vote changes 30 an hour: choosing, changing one's mind and toggling a few options
  on a multiple-choice poll stays far below; a script pressing buttons does not.

Coordinators are not limited for reports, ideas and proposals: they enter what residents
told them at a meeting or on a walk, and an administrator gives (and takes) that role. They
are limited for poll votes like everyone: no role needs thirty changes an hour.

Limits count the stored rows (`storage.repo.limits`) by the app's clock, so they hold across
restarts, chats and platforms.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.repo import limits
from storage.repo.limits import Action as Action

WINDOW = timedelta(hours=1)
PER_HOUR: dict[Action, int] = {"report": 10, "idea": 10, "proposal": 5, "vote": 30}
COORDINATORS_EXEMPT: frozenset[Action] = frozenset({"report", "idea", "proposal"})


async def free_at(
    session: AsyncSession,
    action: Action,
    person_id: int | None,
    now: datetime,
    *,
    coordinator: bool = False,
) -> datetime | None:
    """None when the person may do `action` now; else the minute from which they may."""
    if person_id is None or (coordinator and action in COORDINATORS_EXEMPT):
        return None
    most = PER_HOUR[action]
    times = await limits.recent(session, action, person_id, now - WINDOW, most)
    if len(times) < most:
        return None
    return _next_minute(times[most - 1] + WINDOW)  # when the oldest that counts leaves


async def count(session: AsyncSession, action: Action, person_id: int) -> None:
    """A changed vote or a proposal counts from now (reports and ideas count themselves)."""
    await limits.count(session, action, person_id)


def _next_minute(moment: datetime) -> datetime:
    """Rounded up, so "from 19:05" is never a moment too early."""
    seconds = moment.timestamp()
    return datetime.fromtimestamp(math.ceil(seconds / 60) * 60, tz=moment.tzinfo)
