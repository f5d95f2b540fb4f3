"""What is stored about one person, read for /mijngegevens (their right of access).

The rest comes from the capability modules (`ideas.ideas_by`, `signals.followed_by` …);
here are the things only this overview asks for.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Account,
    Announcement,
    AuditEvent,
    BudgetProject,
    BudgetRound,
    BudgetSupport,
    Channel,
    ConversationState,
    OutboxMessage,
    Poll,
    Preference,
    Signal,
    SignalUpdate,
    VoterRoll,
)


async def preference(session: AsyncSession, person_id: int) -> Preference | None:
    """Their digest settings, if they ever chose (None: the defaults, nothing stored)."""
    return await session.get(Preference, person_id)


async def direct_chats(session: AsyncSession, person_id: int) -> list[Channel]:
    stmt = select(Channel).where(col(Channel.person_id) == person_id, col(Channel.kind) == "direct")
    return list((await session.exec(stmt.order_by(col(Channel.id)))).all())


async def proposals(session: AsyncSession, person_id: int) -> list[tuple[BudgetProject, str]]:
    """Budget proposals they sent in, with the round's title."""
    stmt = (
        select(BudgetProject, BudgetRound.title)
        .join(BudgetRound, col(BudgetRound.id) == col(BudgetProject.round_id))
        .where(col(BudgetProject.proposer_id) == person_id)
        .order_by(col(BudgetProject.id))
    )
    return [(p, t) for p, t in (await session.exec(stmt)).all()]


async def budget_supports(session: AsyncSession, person_id: int) -> list[BudgetProject]:
    stmt = (
        select(BudgetProject)
        .join(BudgetSupport, col(BudgetSupport.project_id) == col(BudgetProject.id))
        .where(col(BudgetSupport.person_id) == person_id)
        .order_by(col(BudgetProject.id))
    )
    return list((await session.exec(stmt)).all())


async def rounds_voted_in(session: AsyncSession, person_id: int) -> list[BudgetRound]:
    """Rounds they voted in; what they chose is in no row linked to them."""
    stmt = (
        select(BudgetRound)
        .join(VoterRoll, col(VoterRoll.round_id) == col(BudgetRound.id))
        .where(col(VoterRoll.person_id) == person_id)
        .order_by(col(BudgetRound.id))
    )
    return list((await session.exec(stmt)).all())


async def report_notes(session: AsyncSession, person_id: int) -> list[tuple[SignalUpdate, Signal]]:
    """What they wrote in a report's history: answers to a coordinator, or as coordinator."""
    stmt = (
        select(SignalUpdate, Signal)
        .join(Signal, col(Signal.id) == col(SignalUpdate.signal_id))
        .where(col(SignalUpdate.by_person_id) == person_id)
        .order_by(col(SignalUpdate.id))
    )
    return [(u, s) for u, s in (await session.exec(stmt)).all()]


async def polls_created(session: AsyncSession, person_id: int) -> list[Poll]:
    stmt = select(Poll).where(col(Poll.created_by_id) == person_id).order_by(col(Poll.id))
    return list((await session.exec(stmt)).all())


async def announcements_created(session: AsyncSession, person_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(Announcement)
        .where(col(Announcement.created_by_id) == person_id)
    )
    return int((await session.exec(stmt)).one())


@dataclass(frozen=True)
class Trail:
    """The log of coordinator actions, as far as it concerns one person."""

    by_them: Counter[str]  # action -> how often they did it
    about_them: int  # entries about them (made coordinator …)
    linked: list[int]  # neighbourhoods of the group chats they linked


async def audit_trail(session: AsyncSession, person_id: int) -> Trail:
    mine = (
        await session.exec(select(AuditEvent).where(col(AuditEvent.actor_person_id) == person_id))
    ).all()
    about = await session.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(col(AuditEvent.subject_type) == "person", col(AuditEvent.subject_id) == person_id)
    )
    return Trail(
        by_them=Counter(e.action for e in mine),
        about_them=int(about.one()),
        linked=[e.subject_id for e in mine if e.action == "group.linked" and e.subject_id],
    )


@dataclass(frozen=True)
class Messages:
    waiting: int  # to be sent to them
    kept: int  # sent, kept for a while (replies and buttons refer to them)


async def messages_to(session: AsyncSession, chats: list[Channel]) -> Messages:
    waiting = kept = 0
    for chat in chats:
        stmt = (
            select(col(OutboxMessage.sent_at).is_(None), func.count())
            .where(
                col(OutboxMessage.platform) == chat.platform,
                col(OutboxMessage.chat_id) == chat.chat_id,
            )
            .group_by(col(OutboxMessage.sent_at).is_(None))
        )
        for unsent, n in (await session.exec(stmt)).all():
            if unsent:
                waiting += n
            else:
                kept += n
    return Messages(waiting, kept)


async def conversations(session: AsyncSession, accounts: list[Account]) -> int:
    """In how many chats we remember where they are in a conversation (a draft, buttons)."""
    total = 0
    for acc in accounts:
        stmt = (
            select(func.count())
            .select_from(ConversationState)
            .where(
                col(ConversationState.platform) == acc.platform,
                col(ConversationState.user_id) == acc.platform_user_id,
            )
        )
        total += int((await session.exec(stmt)).one())
    return total
