"""Persons, their platform accounts, memberships and direct chats."""

from __future__ import annotations

from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Account,
    AuditEvent,
    Channel,
    ConversationState,
    Membership,
    Neighbourhood,
    OutboxMessage,
    Person,
    ThemeFollow,
    utcnow,
)


async def person_for_account(session: AsyncSession, platform: str, user_id: str) -> Person | None:
    stmt = (
        select(Person)
        .join(Account, col(Account.person_id) == col(Person.id))
        .where(col(Account.platform) == platform, col(Account.platform_user_id) == user_id)
    )
    return (await session.exec(stmt)).first()


async def create_person(session: AsyncSession, platform: str, user_id: str, locale: str) -> Person:
    person = Person(locale=locale)
    session.add(person)
    await session.flush()
    assert person.id is not None
    session.add(Account(person_id=person.id, platform=platform, platform_user_id=user_id))
    await session.flush()
    return person


async def get_or_create_person(
    session: AsyncSession, platform: str, user_id: str, locale: str
) -> Person:
    found = await person_for_account(session, platform, user_id)
    return found or await create_person(session, platform, user_id, locale)


async def accounts_of(session: AsyncSession, person_id: int) -> list[Account]:
    stmt = select(Account).where(col(Account.person_id) == person_id)
    return list((await session.exec(stmt)).all())


async def memberships_of(session: AsyncSession, person_id: int) -> list[Membership]:
    stmt = select(Membership).where(col(Membership.person_id) == person_id)
    return list((await session.exec(stmt)).all())


async def is_home(session: AsyncSession, person_id: int, neighbourhood_id: int) -> bool:
    stmt = select(Membership.id).where(
        col(Membership.person_id) == person_id,
        col(Membership.neighbourhood_id) == neighbourhood_id,
        col(Membership.is_home),
    )
    return (await session.exec(stmt)).first() is not None


async def home_neighbourhood(session: AsyncSession, person_id: int) -> Neighbourhood | None:
    stmt = (
        select(Neighbourhood)
        .join(Membership, col(Membership.neighbourhood_id) == col(Neighbourhood.id))
        .where(col(Membership.person_id) == person_id, col(Membership.is_home))
    )
    return (await session.exec(stmt)).first()


async def set_home(session: AsyncSession, person_id: int, neighbourhood_id: int) -> None:
    """Make `neighbourhood_id` the person's home, keeping any coordinator roles.

    A home chosen anew (not the current one) counts from now (`home_since`)."""
    for m in await memberships_of(session, person_id):
        if m.neighbourhood_id == neighbourhood_id:
            if not m.is_home:
                m.is_home, m.home_since = True, utcnow()
                session.add(m)
        elif m.role == "resident":
            await session.delete(m)
        elif m.is_home:
            m.is_home, m.home_since = False, None
            session.add(m)
    if not any(
        m.neighbourhood_id == neighbourhood_id for m in await memberships_of(session, person_id)
    ):
        session.add(
            Membership(
                person_id=person_id,
                neighbourhood_id=neighbourhood_id,
                is_home=True,
                home_since=utcnow(),
            )
        )
    await session.flush()


async def grant_coordinator(session: AsyncSession, person_id: int, neighbourhood_id: int) -> bool:
    """Make the person coordinator of the neighbourhood; False if they already were."""
    stmt = select(Membership).where(
        col(Membership.person_id) == person_id, col(Membership.neighbourhood_id) == neighbourhood_id
    )
    m = (await session.exec(stmt)).first()
    if m is None:
        session.add(
            Membership(person_id=person_id, neighbourhood_id=neighbourhood_id, role="coordinator")
        )
        return True
    if m.role == "coordinator":
        return False
    m.role = "coordinator"
    session.add(m)
    return True


async def coordinated_neighbourhoods(session: AsyncSession, person_id: int) -> list[int]:
    stmt = select(Membership.neighbourhood_id).where(
        col(Membership.person_id) == person_id, col(Membership.role) == "coordinator"
    )
    return list((await session.exec(stmt)).all())


async def coordinators_of(session: AsyncSession, neighbourhood_id: int) -> list[Person]:
    stmt = (
        select(Person)
        .join(Membership, col(Membership.person_id) == col(Person.id))
        .where(
            col(Membership.neighbourhood_id) == neighbourhood_id,
            col(Membership.role) == "coordinator",
        )
    )
    return list((await session.exec(stmt)).all())


async def remember_direct_chat(
    session: AsyncSession, person_id: int, platform: str, chat_id: str
) -> None:
    """This chat is the person's direct chat. A group linked to a neighbourhood stays the
    room's (on Matrix one room can look like either): it never becomes anyone's own."""
    stmt = select(Channel).where(col(Channel.platform) == platform, col(Channel.chat_id) == chat_id)
    channel = (await session.exec(stmt)).first()
    if channel is None:
        session.add(Channel(platform=platform, chat_id=chat_id, kind="direct", person_id=person_id))
    elif channel.kind == "group" and channel.neighbourhood_id is not None:
        return
    elif channel.kind != "direct" or channel.person_id != person_id or not channel.reachable:
        channel.kind = "direct"
        channel.person_id = person_id
        channel.reachable = True
        session.add(channel)


async def direct_chats_of(
    session: AsyncSession, person_ids: list[int]
) -> list[tuple[Person, Channel]]:
    """`direct_chat_of` for many people in one query: each person with their latest
    reachable direct chat, in the order of `person_ids`; people without one are left out."""
    if not person_ids:
        return []
    stmt = (
        select(Person, Channel)
        .join(Channel, col(Channel.person_id) == col(Person.id))
        .where(
            col(Person.id).in_(person_ids),
            col(Channel.kind) == "direct",
            col(Channel.reachable),
        )
        .order_by(col(Channel.id).desc())
    )
    latest: dict[int, tuple[Person, Channel]] = {}
    for person, chat in (await session.exec(stmt)).all():
        assert person.id is not None
        latest.setdefault(person.id, (person, chat))
    return [latest[pid] for pid in person_ids if pid in latest]


async def direct_chat_of(session: AsyncSession, person_id: int) -> Channel | None:
    stmt = (
        select(Channel)
        .where(
            col(Channel.person_id) == person_id,
            col(Channel.kind) == "direct",
            col(Channel.reachable),
        )
        .order_by(col(Channel.id).desc())
    )
    return (await session.exec(stmt)).first()


async def erase_person(session: AsyncSession, person_id: int) -> None:
    """Erase a person and their accounts; their ideas and signals stay without a name.

    Foreign keys do the rest: ON DELETE CASCADE for accounts, memberships, follows, votes,
    settings and direct chats; SET NULL for authorship, supports and the coordinator log.
    Here: what refers to them without a foreign key (messages to their chats, dialogs of
    their accounts, log entries about them).
    """
    direct = (
        await session.exec(
            select(Channel).where(
                col(Channel.person_id) == person_id, col(Channel.kind) == "direct"
            )
        )
    ).all()
    for chat in direct:  # messages waiting for them, or kept after sending
        await session.exec(
            delete(OutboxMessage).where(
                col(OutboxMessage.platform) == chat.platform,
                col(OutboxMessage.chat_id) == chat.chat_id,
            )
        )
    accounts = await accounts_of(session, person_id)
    for acc in accounts:
        await session.exec(
            delete(ConversationState).where(
                col(ConversationState.platform) == acc.platform,
                col(ConversationState.user_id) == acc.platform_user_id,
            )
        )
    await session.exec(
        update(AuditEvent)
        .where(col(AuditEvent.subject_type) == "person", col(AuditEvent.subject_id) == person_id)
        .values(subject_id=None)
    )
    await session.exec(delete(ThemeFollow).where(col(ThemeFollow.person_id) == person_id))
    await session.exec(delete(Person).where(col(Person.id) == person_id))
