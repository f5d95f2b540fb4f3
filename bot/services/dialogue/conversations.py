"""A conversation as messages: announced like a poll, one statement at a time with three
buttons, closed on time with a word to everyone who took part."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.callbacks import CallbackData
from bot.core.clock import Clock
from bot.core.events import Button
from bot.core.i18n import N_, _, use_locale, when
from bot.core.permissions import Actor
from bot.delivery.broadcast import Reach, Target, broadcast, store_image
from bot.services.dialogue import report
from bot.services.dialogue.ordering import Seen, next_statement
from storage.db import Database
from storage.dialogue_models import AGREE, DISAGREE, PASS, Conversation, Statement
from storage.repo import audience, dialogue, outbox, people

MAX_QUESTION = 300
VALUES: dict[str, int] = {"agree": AGREE, "disagree": DISAGREE, "pass": PASS}


class VoteOn(CallbackData, prefix="gv", hint=N_("Type /gesprek to see the open conversations.")):
    """Agree, disagree or pass on one statement: `gv:{conversation}:{statement}:{value}`."""

    conversation: int
    statement: int
    value: Literal["agree", "disagree", "pass"]


class TakePart(CallbackData, prefix="gs"):
    """Start (or go on) voting in a conversation."""

    conversation: int


class Standing(CallbackData, prefix="gr"):
    """ "How it stands": the report so far, with the opinion map."""

    conversation: int


def standing_button(conv: Conversation) -> Button:
    assert conv.id is not None
    return Button(_("How it stands"), Standing(conv.id).pack())


class AddStatement(CallbackData, prefix="ga"):
    conversation: int


class Review(CallbackData, prefix="gm"):
    """A coordinator's verdict on a waiting statement."""

    statement: int
    verdict: Literal["ok", "no"]


def vote_word(value: int) -> str:
    return {AGREE: _("agree"), DISAGREE: _("disagree")}.get(value, _("pass"))


def is_open(conv: Conversation, now: datetime) -> bool:
    return conv.sent_at is not None and conv.closed_at is None and now < conv.closes_at


async def may_take_part(session: AsyncSession, conv: Conversation, actor: Actor) -> bool:
    """Where it went: a group it was sent to, or a resident it is meant for (as polls)."""
    target = conv.neighbourhood_id, conv.theme_id
    if actor.in_group:
        return await audience.includes_group(session, actor.chat.platform, actor.chat.id, *target)
    return actor.person_id is not None and await audience.includes_person(
        session, actor.person_id, *target
    )


def announcement_text(conv: Conversation) -> str:
    return "\n".join(
        [
            _("💬 Conversation: {question}").format(question=conv.question),
            "",
            _(
                "Give your view on short statements from neighbours: agree, disagree or "
                "pass. You can add your own statement too."
            ),
            _("Nobody sees what you voted. Open until {moment}.").format(
                moment=when(conv.closes_at)
            ),
        ]
    )


def take_part_button(conv: Conversation) -> Button:
    assert conv.id is not None
    return Button(_("Take part"), TakePart(conv.id).pack())


def add_button(conv: Conversation) -> Button:
    assert conv.id is not None
    return Button(_("Add my own statement"), AddStatement(conv.id).pack())


async def announce(session: AsyncSession, conv: Conversation, now: datetime, locale: str) -> Reach:
    """Send the conversation to its groups and residents (respecting /overzicht)."""
    reach = await broadcast(
        session,
        Target(conv.neighbourhood_id, conv.theme_id),
        lambda: announcement_text(conv),
        lambda: [[take_part_button(conv)]],
        group_locale=locale,
    )
    conv.sent_at = now
    session.add(conv)
    return reach


def statement_text(conv: Conversation, st: Statement) -> str:
    return "\n".join(
        [
            f"💬 {conv.question}",
            "",
            f"“{st.text}”",
            "",
            _("Do you agree?"),
        ]
    )


def statement_buttons(conv: Conversation, st: Statement) -> list[list[Button]]:
    assert conv.id is not None and st.id is not None
    return [
        [
            Button(_("Agree"), VoteOn(conv.id, st.id, "agree").pack()),
            Button(_("Disagree"), VoteOn(conv.id, st.id, "disagree").pack()),
            Button(_("Pass"), VoteOn(conv.id, st.id, "pass").pack()),
        ],
        [add_button(conv)],
    ]


async def next_for(session: AsyncSession, conv: Conversation, person_id: int) -> Statement | None:
    """The statement this person sees next; None when they voted on all of them."""
    assert conv.id is not None
    return await _next(session, conv, await dialogue.votes_of(session, conv.id, person_id))


async def least_seen(session: AsyncSession, conv: Conversation) -> Statement | None:
    """For a group: the first statement by Pol.is's priority (new ones get a boost)."""
    return await _next(session, conv, ())


async def _next(
    session: AsyncSession, conv: Conversation, voted: Collection[int]
) -> Statement | None:
    assert conv.id is not None
    counts = await dialogue.counts(session, conv.id)
    seen = {k: Seen(c.agree, c.disagree, c.passed) for k, c in counts.items()}
    chosen = next_statement(seen, voted, report.extremity(conv.id))
    return None if chosen is None else await dialogue.statement(session, chosen)


async def close(session: AsyncSession, conv: Conversation, now: datetime) -> bool:
    """Close now and send everyone who voted or wrote the report, in their language, with the
    opinion map; False if it was closed already."""
    if not await dialogue.claim_close(session, conv, now):
        return False
    assert conv.id is not None
    analysis = await report.analysis_of(session, conv)  # the last votes counted too
    totals, texts, place = await report.facts(session, conv)
    rendered: dict[str, tuple[str, dict[str, object]]] = {}  # one text and image per language
    rows = []
    participants = await dialogue.participants(session, conv.id)
    for person, chat in await people.direct_chats_of(session, participants):
        if person.locale not in rendered:
            with use_locale(person.locale):
                got = report.render(conv, analysis, totals, texts, place)
                thanks = _(
                    "The conversation “{question}” has ended. Thank you for taking part!"
                ).format(question=conv.question)
            extra: dict[str, object] = {}
            if got.chart is not None:
                extra["media_id"] = await store_image(session, got.chart)
            rendered[person.locale] = (thanks + "\n\n" + got.text, extra)
        text, extra = rendered[person.locale]
        rows.append(
            outbox.new_row(chat.platform, chat.chat_id, "direct", text, [], dict(extra), now)
        )
    await outbox.enqueue_many(session, rows)  # one INSERT for every participant
    report.forget(conv.id)
    return True


async def close_due(db: Database, clock: Clock) -> int:
    """Close every conversation whose end has come (also those missed while the bot was down)."""
    closed = 0
    while True:
        async with db.transaction() as session:
            due = await dialogue.due_to_close(session, clock.now())
            if not due:
                return closed
            await close(session, due[0], clock.now())
            closed += 1
