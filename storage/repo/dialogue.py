"""Conversations, their statements and votes: reads and writes, one vote per person per
statement (unique in the database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dialogue_models import AGREE, DISAGREE, PASS, Conversation, Statement, StatementVote
from storage.repo.unique import add_once


@dataclass(frozen=True)
class Counts:
    """Votes on one statement so far."""

    agree: int = 0
    disagree: int = 0
    passed: int = 0

    @property
    def seen(self) -> int:
        return self.agree + self.disagree + self.passed


@dataclass(frozen=True)
class Totals:
    voters: int
    votes: int
    statements: int


async def get(session: AsyncSession, conversation_id: int) -> Conversation | None:
    return await session.get(Conversation, conversation_id)


async def get_for_vote(session: AsyncSession, conversation_id: int) -> Conversation | None:
    """Locked until the transaction ends (PostgreSQL): a vote and the close take turns."""
    stmt = select(Conversation).where(col(Conversation.id) == conversation_id).with_for_update()
    return (await session.exec(stmt)).first()


async def statement(session: AsyncSession, statement_id: int) -> Statement | None:
    return await session.get(Statement, statement_id)


async def statements(
    session: AsyncSession, conversation_id: int, status: str | None = "shown"
) -> list[Statement]:
    stmt = select(Statement).where(col(Statement.conversation_id) == conversation_id)
    if status is not None:
        stmt = stmt.where(col(Statement.status) == status)
    return list((await session.exec(stmt.order_by(col(Statement.id)))).all())


async def counts(session: AsyncSession, conversation_id: int) -> dict[int, Counts]:
    """Per shown statement: agree, disagree and pass so far (zero when nobody voted)."""
    rows = (
        await session.exec(
            select(StatementVote.statement_id, StatementVote.value, func.count())
            .where(col(StatementVote.conversation_id) == conversation_id)
            .group_by(col(StatementVote.statement_id), col(StatementVote.value))
        )
    ).all()
    found: dict[int, dict[int, int]] = {}
    for statement_id, value, n in rows:
        found.setdefault(statement_id, {})[value] = n
    return {
        s.id: Counts(
            found.get(s.id, {}).get(AGREE, 0),
            found.get(s.id, {}).get(DISAGREE, 0),
            found.get(s.id, {}).get(PASS, 0),
        )
        for s in await statements(session, conversation_id)
        if s.id is not None
    }


async def votes_of(session: AsyncSession, conversation_id: int, person_id: int) -> dict[int, int]:
    """The statements this person voted on, with their vote."""
    rows = (
        await session.exec(
            select(StatementVote.statement_id, StatementVote.value).where(
                col(StatementVote.conversation_id) == conversation_id,
                col(StatementVote.person_id) == person_id,
            )
        )
    ).all()
    return dict(rows)


async def vote(
    session: AsyncSession, st: Statement, person_id: int, value: int, now: datetime
) -> int | None:
    """Set this person's vote on the statement; the vote it replaced (None: a first vote)."""
    assert st.id is not None
    row = (
        await session.exec(
            select(StatementVote).where(
                col(StatementVote.statement_id) == st.id, col(StatementVote.person_id) == person_id
            )
        )
    ).first()
    if row is None:
        new = StatementVote(statement_id=st.id, conversation_id=st.conversation_id,
                            person_id=person_id, value=value, created_at=now, changed_at=now)  # fmt: skip
        if await add_once(session, new):  # a twin press at the same moment is refused
            return None
        return await vote(session, st, person_id, value, now)
    before = row.value
    row.value, row.changed_at = value, now
    session.add(row)
    return before


async def open_conversations(
    session: AsyncSession, neighbourhood_ids: list[int]
) -> list[Conversation]:
    """Sent and not yet closed, the first to close first."""
    stmt = select(Conversation).where(
        col(Conversation.neighbourhood_id).in_(neighbourhood_ids),
        col(Conversation.sent_at).is_not(None),
        col(Conversation.closed_at).is_(None),
    )
    return list((await session.exec(stmt.order_by(col(Conversation.closes_at)))).all())


async def due_to_close(session: AsyncSession, now: datetime) -> list[Conversation]:
    stmt = select(Conversation).where(
        col(Conversation.sent_at).is_not(None),
        col(Conversation.closed_at).is_(None),
        col(Conversation.closes_at) <= now,
    )
    return list((await session.exec(stmt.order_by(col(Conversation.closes_at)))).all())


async def claim_close(session: AsyncSession, conv: Conversation, now: datetime) -> bool:
    """Mark it closed unless it already is (the scheduler twice at once)."""
    result = await session.exec(
        update(Conversation)
        .where(col(Conversation.id) == conv.id, col(Conversation.closed_at).is_(None))
        .values(closed_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        conv.closed_at = now
    return bool(result.rowcount)


async def totals(session: AsyncSession, conversation_id: int) -> Totals:
    where = col(StatementVote.conversation_id) == conversation_id
    voters = (
        await session.exec(select(func.count(func.distinct(StatementVote.person_id))).where(where))
    ).one()
    votes = (await session.exec(select(func.count()).select_from(StatementVote).where(where))).one()
    shown = len(await statements(session, conversation_id))
    return Totals(int(voters), int(votes), shown)


async def participants(session: AsyncSession, conversation_id: int) -> list[int]:
    """Everyone who voted or wrote a statement: told when it ends."""
    voted = await session.exec(
        select(StatementVote.person_id)
        .where(col(StatementVote.conversation_id) == conversation_id)
        .distinct()
    )
    wrote = await session.exec(
        select(Statement.author_id)
        .where(col(Statement.conversation_id) == conversation_id)
        .distinct()
    )
    return sorted({*voted.all(), *(a for a in wrote.all() if a is not None)})


async def statements_by(session: AsyncSession, person_id: int) -> list[tuple[Statement, str]]:
    """/mijngegevens: what this person wrote, with the conversation's question."""
    rows = await session.exec(
        select(Statement, Conversation.question)
        .join(Conversation, col(Conversation.id) == col(Statement.conversation_id))
        .where(col(Statement.author_id) == person_id)
        .order_by(col(Statement.id))
    )
    return [(s, q) for s, q in rows.all()]


async def all_votes_of(session: AsyncSession, person_id: int) -> list[tuple[str, int]]:
    """/mijngegevens: each statement this person voted on, with the vote."""
    rows = await session.exec(
        select(Statement.text, StatementVote.value)
        .join(Statement, col(Statement.id) == col(StatementVote.statement_id))
        .where(col(StatementVote.person_id) == person_id)
        .order_by(col(StatementVote.id))
    )
    return [(t, v) for t, v in rows.all()]


async def opened_by(session: AsyncSession, person_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(Conversation)
        .where(col(Conversation.created_by_id) == person_id)
    )
    return int((await session.exec(stmt)).one())


@dataclass(frozen=True)
class VoteRow:
    person_id: int
    statement_id: int
    value: int
    changed_at: datetime


async def all_votes(session: AsyncSession, conversation_id: int) -> list[VoteRow]:
    """Every person's latest vote in the conversation, the oldest change first (the analysis,
    the export)."""
    rows = await session.exec(
        select(StatementVote.person_id, StatementVote.statement_id, StatementVote.value,
               StatementVote.changed_at)
        .where(col(StatementVote.conversation_id) == conversation_id)
        .order_by(col(StatementVote.changed_at), col(StatementVote.id))
    )  # fmt: skip
    return [VoteRow(p, s, v, t) for p, s, v, t in rows.all()]


async def vote_marker(session: AsyncSession, conversation_id: int) -> tuple[int, int, str]:
    """How many votes, their sum and the latest change: when it moved, the analysis is out
    of date."""
    row = (
        await session.exec(
            select(
                func.count(),
                func.coalesce(func.sum(StatementVote.value), 0),
                func.max(StatementVote.changed_at),
            ).where(col(StatementVote.conversation_id) == conversation_id)
        )
    ).one()
    return int(row[0]), int(row[1]), str(row[2])


async def running(session: AsyncSession, now: datetime) -> list[Conversation]:
    """Sent, not closed, not yet past their end: the ones the analysis job looks at."""
    stmt = select(Conversation).where(
        col(Conversation.sent_at).is_not(None),
        col(Conversation.closed_at).is_(None),
        col(Conversation.closes_at) > now,
    )
    return list((await session.exec(stmt.order_by(col(Conversation.id)))).all())
