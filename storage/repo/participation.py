"""How many distinct people took part, per neighbourhood, kind of activity and month.

Counts only, never who. One statement for any number of neighbourhoods, months and
residents: the months are bounds the caller gives (local month starts, as UTC moments), so
both databases bucket by the same CASE and no SQL date function differs between them.

A budget vote has no time of its own (the voter roll has none, by design: nothing may order
the votes), so it counts in the month its round's voting closed, once that has happened.
A voting code stands for one voter; a person's vote and a code's are never linked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal_column, select, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.budget_models import BudgetRound, VoterRoll
from storage.dialogue_models import Conversation, Statement, StatementVote
from storage.models import Idea, IdeaSupport, Poll, PollVote, Signal

KINDS = ("reports", "ideas", "polls", "budget", "conversations")
WHOLE = -1  # the "month" of the figures over the whole period


def _kind(name: str) -> ColumnElement[int]:
    return literal_column(str(KINDS.index(name)), Integer).label("kind")


def _activities(hood_ids: Sequence[int], since: datetime, until: datetime) -> Subquery:
    """(kind, hood, pid, at) for every act of taking part in the period."""

    def window(at: Any) -> ColumnElement[bool]:
        return and_(at >= since, at <= until)

    return union_all(
        select(_kind("reports"), col(Signal.neighbourhood_id).label("hood"),
               col(Signal.reporter_id).label("pid"), col(Signal.created_at).label("at"))
        .where(col(Signal.neighbourhood_id).in_(hood_ids), window(col(Signal.created_at))),
        select(_kind("ideas"), col(Idea.neighbourhood_id), col(Idea.author_id),
               col(Idea.created_at))
        .where(col(Idea.neighbourhood_id).in_(hood_ids), window(col(Idea.created_at))),
        select(_kind("ideas"), col(Idea.neighbourhood_id), col(IdeaSupport.person_id),
               col(IdeaSupport.created_at))
        .join(Idea, col(Idea.id) == IdeaSupport.idea_id)
        .where(col(Idea.neighbourhood_id).in_(hood_ids), window(col(IdeaSupport.created_at))),
        select(_kind("polls"), col(Poll.neighbourhood_id), col(PollVote.person_id),
               col(PollVote.created_at))
        .join(Poll, col(Poll.id) == PollVote.poll_id)
        .where(col(Poll.neighbourhood_id).in_(hood_ids), window(col(PollVote.created_at))),
        select(_kind("budget"), col(BudgetRound.neighbourhood_id),
               func.coalesce(VoterRoll.person_id, -col(VoterRoll.voting_code_id)),
               col(BudgetRound.closes_at))
        .join(BudgetRound, col(BudgetRound.id) == VoterRoll.round_id)
        .where(col(BudgetRound.neighbourhood_id).in_(hood_ids),
               window(col(BudgetRound.closes_at))),
        select(_kind("conversations"), col(Conversation.neighbourhood_id),
               col(StatementVote.person_id), col(StatementVote.created_at))
        .join(Conversation, col(Conversation.id) == StatementVote.conversation_id)
        .where(col(Conversation.neighbourhood_id).in_(hood_ids),
               window(col(StatementVote.created_at))),
        select(_kind("conversations"), col(Conversation.neighbourhood_id),
               col(Statement.author_id), col(Statement.created_at))
        .join(Conversation, col(Conversation.id) == Statement.conversation_id)
        .where(col(Conversation.neighbourhood_id).in_(hood_ids), ~col(Statement.seed),
               window(col(Statement.created_at))),
    ).subquery("acts")  # fmt: skip


async def people_per_month(
    session: AsyncSession, hood_ids: Sequence[int], starts: Sequence[datetime], until: datetime
) -> dict[tuple[int, str, int], int]:
    """{(hood, kind, month): distinct people}; month is the index into ``starts`` (the first
    moments of consecutive months, oldest first), or WHOLE for the whole period. Kinds and
    months nobody took part in are absent."""
    if not hood_ids or not starts:
        return {}
    acts = _activities(hood_ids, starts[0], until)
    month = case(
        *[(acts.c.at >= start, i) for i, start in reversed(list(enumerate(starts)))],
        else_=0,
    )
    bucketed = (
        select(acts.c.kind, acts.c.hood, acts.c.pid, month.label("month"))
        .where(acts.c.pid.is_not(None))
        .subquery("bucketed")
    )
    people = func.count(func.distinct(bucketed.c.pid))
    stmt = union_all(
        select(bucketed.c.hood, bucketed.c.kind, bucketed.c.month, people).group_by(
            bucketed.c.hood, bucketed.c.kind, bucketed.c.month
        ),
        select(
            bucketed.c.hood, bucketed.c.kind, literal_column(str(WHOLE), Integer), people
        ).group_by(bucketed.c.hood, bucketed.c.kind),
    )
    rows = (await session.exec(stmt)).all()  # type: ignore[call-overload]
    return {(int(h), KINDS[int(k)], int(m)): int(n) for h, k, m, n in rows}
