"""What reports tell people later: status names, and notices to the reporter, the followers
and the neighbourhood's coordinators (each in their own language, through the outbox)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.callbacks import CallbackData
from bot.core.events import Button
from bot.core.i18n import N_, _, when
from bot.core.text import clean
from bot.delivery.notify import tell
from bot.services.signals.channels.base import plain_text, trim
from storage.models import Person, Signal
from storage.repo import people, signals

CATEGORY_LABELS = {
    "road": N_("Street or pavement"),
    "greenery": N_("Trees and greenery"),
    "waste": N_("Litter and waste"),
    "lighting": N_("Street lighting"),
    "safety": N_("Safety"),
    "other": N_("Something else"),
}
STATUS_LABELS = {
    "new": N_("new"),
    "accepted": N_("accepted"),
    "in_progress": N_("being handled"),
    # Set when a coordinator forwards it, before the municipality accepted it.
    "forwarded": N_("for the municipality"),
    "resolved": N_("solved"),
    "closed": N_("closed"),
    "reopened": N_("open again"),
}

NOTE_LIMIT = 500  # characters of the municipality's words in one message
NOTE_LINES = 6


def from_municipality(text: str, limit: int = NOTE_LIMIT) -> str:
    """The municipality's words (a status note, an error) as short, plain chat text.

    Our messages are plain text on every platform (the adapters escape all markup), so
    HTML is read as text; control characters, bidi overrides and zero-width characters
    go; spaces and blank lines are folded; at most `limit` characters, cut with "…".
    """
    text = clean(plain_text(text[: limit * 20]))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    lines = text.split("\n")
    if len(lines) > NOTE_LINES:
        rest = " ".join(line for line in lines[NOTE_LINES - 1 :] if line)
        text = "\n".join([*lines[: NOTE_LINES - 1], rest])
    return trim(text, limit)


class ViewSignal(CallbackData, prefix="sigview"):
    """`sigview:<id>` shows a report; `sigview:<id>:follow` follows it."""

    signal: int
    follow: Literal["follow"] | None = None


class SolvedAnswer(CallbackData, prefix="solved"):
    """The reporter's answer to "is it really solved?"."""

    signal: int
    answer: Literal["yes", "no"]


class RetryForward(
    CallbackData, prefix="fwdretry", hint=N_("Type /meldingen to see the reports again.")
):
    """A coordinator's "Try again" under a failed forward: send it once more."""

    signal: int


def status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def resident_card(sig: Signal, involved: bool) -> tuple[str, list[Button]]:
    """A report as a resident sees it (the digest's Open button, /melding M-1042): text,
    status, date and place, and "Follow" unless they report or follow it already."""
    assert sig.id is not None
    lines = [
        f"{sig.reference}: {sig.text}",
        _("Status: {status}").format(status=status_label(sig.status)),
        _("Reported on {date}").format(date=when(sig.created_at)),
    ]
    if sig.address:
        lines.append(_("Place: {place}").format(place=sig.address))
    follow = _("Follow {ref}").format(ref=sig.reference)
    return "\n".join(lines), [] if involved else [
        Button(follow, ViewSignal(sig.id, "follow").pack())
    ]


async def tell_concerned(
    session: AsyncSession,
    sig: Signal,
    render: Callable[[bool], str],
    *,
    with_solved_question: bool = False,
) -> int:
    """Tell the reporter and everyone following the report, each in their own language.

    `render(for_reporter)`: what a coordinator wrote to the reporter is for the reporter
    only; followers hear the status.
    """
    people_ids = await signals.followers(session, sig.id or 0)
    if sig.reporter_id is not None:
        people_ids = [sig.reporter_id, *(p for p in people_ids if p != sig.reporter_id)]
    told = 0
    for pid in people_ids:
        person = await session.get(Person, pid)
        if person is None:
            continue
        is_reporter = pid == sig.reporter_id
        ask = with_solved_question and is_reporter
        told += await tell(
            session, person, partial(render, is_reporter), solved_buttons(sig) if ask else None
        )
    return told


async def tell_coordinators(
    session: AsyncSession,
    sig: Signal,
    render: Callable[[], str],
    buttons: Callable[[], list[Button]] | None = None,
) -> int:
    told = 0
    for coordinator in await people.coordinators_of(session, sig.neighbourhood_id):
        told += await tell(session, coordinator, render, buttons)
    return told


def solved_buttons(sig: Signal) -> Callable[[], list[Button]]:
    """Asked when a report is closed: is it really solved? "No" reopens it."""

    def make() -> list[Button]:
        return [
            Button(_("Yes, it is solved"), SolvedAnswer(sig.id or 0, "yes").pack()),
            Button(_("No, it is not solved"), SolvedAnswer(sig.id or 0, "no").pack()),
        ]

    return make
