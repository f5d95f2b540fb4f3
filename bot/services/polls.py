"""Polls as messages: the question with its buttons, results with a chart, closing on time.

A poll goes out as text plus one button per option (`pv:{poll}:{option}`) on every
platform; where the platform has native polls (Matrix MSC3381) the same options travel as
a `PollSpec`, whose answer ids are the same button data — so a native answer and a button
press are one thing to the handlers, and one person has one vote whatever the channel.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.callbacks import CallbackData
from bot.core.clock import Clock
from bot.core.events import Button, PollSpec
from bot.core.i18n import _, ngettext, number, use_locale, when
from bot.core.permissions import Actor
from bot.delivery.broadcast import (
    Reach,
    Target,
    broadcast,
    groups_text,
    residents_text,
    store_image,
)
from bot.util.charts import bar_chart
from storage.db import Database
from storage.models import Poll
from storage.repo import audience, outbox, polls
from storage.repo.polls import Tally

log = logging.getLogger(__name__)
MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_QUESTION, MAX_OPTION = 300, 100
NAMES_SHOWN = 20
NAMES_INDENT, NAMES_SEPARATOR = "  ", ", "  # a named poll's results: "  Anna, Bob and 3 more"


class PollVote(CallbackData, prefix="pv"):
    """A vote button under a poll: `pv:{poll}:{option}` (native poll answers carry the same)."""

    poll: int
    option: int


class PollResults(CallbackData, prefix="pr"):
    poll: int


class ShowPoll(CallbackData, prefix="poll"):
    """A poll named in a digest: its vote buttons while it is open, its results after."""

    poll: int


def vote_data(poll_id: int, option: int) -> str:
    return PollVote(poll_id, option).pack()


async def may_take_part(session: AsyncSession, poll: Poll, actor: Actor) -> bool:
    """Whether the poll went to where this person presses: a group it was sent to, or (in a
    direct chat) a resident it is meant for — its neighbourhood's, or for a theme poll that
    theme's followers there (`audience`, the rule that sent it)."""
    target = poll.neighbourhood_id, poll.theme_id
    if actor.in_group:
        return await audience.includes_group(session, actor.chat.platform, actor.chat.id, *target)
    return actor.person_id is not None and await audience.includes_person(
        session, actor.person_id, *target
    )


async def may_see(session: AsyncSession, poll: Poll, actor: Actor) -> bool:
    """The poll and its results: where it went, and for its neighbourhood's coordinators."""
    return actor.coordinates(poll.neighbourhood_id) or await may_take_part(session, poll, actor)


def poll_text(poll: Poll) -> str:
    lines = [f"📊 {poll.question}", ""]
    lines.append(_("Choose one or more answers.") if poll.multiple else _("Choose one answer."))
    lines.append(
        _("You can change your choice until {moment}.").format(moment=when(poll.closes_at))
    )
    if poll.named:
        lines.append(_("Your name is shown with your choice in the results."))
    if not poll.live_results:
        lines.append(_("The results are shared after closing."))
    return "\n".join(lines)


def poll_buttons(poll: Poll) -> list[list[Button]]:
    assert poll.id is not None
    rows = [[Button(option, vote_data(poll.id, i))] for i, option in enumerate(poll.options)]
    rows.append([Button(_("Results"), PollResults(poll.id).pack())])
    return rows


def poll_extra(poll: Poll) -> dict[str, object]:
    assert poll.id is not None
    return {
        "poll": PollSpec(
            question=poll.question,
            options=tuple(poll.options),
            answer_ids=tuple(vote_data(poll.id, i) for i in range(len(poll.options))),
            multiple=poll.multiple,
            disclosed=poll.live_results,
        ).to_row(),
        "poll_id": poll.id,  # its results end it where it was sent (outbox.poll_messages)
    }


async def send_poll(session: AsyncSession, poll: Poll, now: datetime, group_locale: str) -> Reach:
    """Send the poll to its target; from now on its rules can't change."""
    assert poll.id is not None
    reach = await broadcast(
        session,
        Target(poll.neighbourhood_id, poll.theme_id),
        lambda: poll_text(poll),
        lambda: poll_buttons(poll),
        poll_extra(poll),
        group_locale=group_locale,
    )
    poll.sent_at = now
    poll.recipients = reach.residents
    poll.groups = reach.groups
    session.add(poll)
    return reach


def _percent(count: int, total: int) -> str:
    return f"{round(100 * count / total) if total else 0}%"


def results_text(poll: Poll, tally: Tally, closed: bool) -> str:
    head = _("Results: {question}") if closed else _("Results so far: {question}")
    lines = [head.format(question=poll.question), ""]
    total = tally.voters  # of the people who voted: with more answers they add up to over 100%
    for option, count, names in zip(poll.options, tally.counts, tally.names, strict=True):
        lines.append(f"• {option}: {number(count)} ({_percent(count, total)})")
        if poll.named and names:
            more = len(names) - NAMES_SHOWN
            lines.append(
                NAMES_INDENT
                + NAMES_SEPARATOR.join(names[:NAMES_SHOWN])
                + (" " + _("and {n} more").format(n=more) if more > 0 else "")
            )
    lines.append("")
    lines.append(
        ngettext("{n} person voted.", "{n} people voted.", tally.voters).format(
            n=number(tally.voters)
        )
    )
    lines.append(
        _("The poll went to {residents} directly and to {groups}.").format(
            residents=residents_text(poll.recipients), groups=groups_text(poll.groups)
        )
    )
    if poll.multiple:
        lines.append(
            ngettext(
                "People could choose more than one answer. The percentages are of the {n} "
                "person who voted, so together they can add up to more than 100%.",
                "People could choose more than one answer. The percentages are of the {n} "
                "people who voted, so together they can add up to more than 100%.",
                tally.voters,
            ).format(n=number(tally.voters))
        )
    return "\n".join(lines)


def results_chart(poll: Poll, tally: Tally) -> bytes:
    total = tally.voters
    return bar_chart(
        poll.question,
        list(poll.options),
        tally.counts,
        [f"{number(c)} ({_percent(c, total)})" for c in tally.counts],
    )


async def close_poll(
    session: AsyncSession, poll: Poll, now: datetime, group_locale: str
) -> Reach | None:
    """Close now and send the results, with a chart, to the same groups and residents.

    None if the poll was closed already (by the scheduler or another coordinator).
    """
    if not await polls.claim_close(session, poll, now):
        return None
    tally = await polls.tally(session, poll)
    extra: dict[str, object] = {}
    # Where the poll was sent, so the results can end it there (one query for all chats).
    assert poll.id is not None
    sent = await outbox.poll_messages(session, poll.id)
    try:
        with use_locale(group_locale):
            extra["media_id"] = await store_image(session, results_chart(poll, tally))
    except Exception:  # the results still go out, as text
        log.exception("poll %s: no chart", poll.id)
    extra["results_of"] = poll.id  # so /vergeetmij finds the names in them
    return await broadcast(
        session,
        Target(poll.neighbourhood_id, poll.theme_id),
        lambda: results_text(poll, tally, closed=True),
        None,
        extra,
        per_chat={chat: {"ends": ref} for chat, ref in sent.items()},
        group_locale=group_locale,
    )


async def forget_voter(session: AsyncSession, person_id: int) -> int:
    """/vergeetmij: take their name out of the results of named polls we still keep.

    The results were counted when the poll closed and stay as they were, only without the
    name: waiting messages go out without it, messages kept after sending no longer hold it.
    Returns how many messages changed. Call before the person's votes are erased.
    """
    changed = 0
    for mine in await polls.votes_of(session, person_id):
        name = mine.shown_as
        if not (mine.poll.named and name and mine.poll.id is not None):
            continue
        # Locked: a poll closing right now sends its results before or after, never during.
        poll = await polls.get_for_vote(session, mine.poll.id) or mine.poll
        names = (await polls.tally(session, poll)).names
        for msg in await outbox.mentioning(session, name):
            if msg.extra.get("results_of", poll.id) != poll.id:
                continue
            text = without_name(msg.text, poll, names, set(mine.options), name)
            if text != msg.text:
                await outbox.set_text(session, msg, text)
                changed += 1
    return changed


def without_name(text: str, poll: Poll, names: list[list[str]], chosen: set[int], name: str) -> str:
    """Results text without `name` once in the names under each option it chose."""
    out: list[str] = []
    option: int | None = None
    for line in text.split("\n"):
        if line.startswith("• "):
            option = next(
                (i for i, o in enumerate(poll.options) if line.startswith(f"• {o}: ")), None
            )
        elif option is not None and option in chosen and line.startswith(NAMES_INDENT):
            kept = _drop_name(line[len(NAMES_INDENT) :], name, names[option])
            option = None
            if kept is not None:
                if kept:
                    out.append(NAMES_INDENT + kept)
                continue
        out.append(line)
    return "\n".join(out)


def _drop_name(listed: str, name: str, known: list[str]) -> str | None:
    """A names line ("Anna, Bob and 3 more") without one `name`; None if it is not a list of
    `known` names.

    Names may hold spaces or commas, so the line is read as known names (longest first),
    not split on commas.
    """
    candidates = sorted({*known, name}, key=len, reverse=True)
    items: list[str] = []
    pos = 0
    while True:
        item = next((n for n in candidates if listed.startswith(n, pos)), None)
        if item is None:
            return None
        items.append(item)
        pos += len(item)
        if listed.startswith(NAMES_SEPARATOR, pos):
            pos += len(NAMES_SEPARATOR)
            continue
        rest = listed[pos:]  # "" or " and 3 more"
        if (rest and not rest.startswith(" ")) or name not in items:
            return None
        items.remove(name)
        return (NAMES_SEPARATOR.join(items) + rest).strip()


async def close_due(db: Database, clock: Clock, group_locale: str) -> int:
    """Close every poll whose time has come (also those missed while the bot was down)."""
    closed = 0
    while True:
        async with db.transaction() as session:
            due = await polls.due_to_close(session, clock.now())
            if not due:
                return closed
            await close_poll(session, due[0], clock.now(), group_locale)
            closed += 1
