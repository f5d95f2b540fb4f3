"""One-off contributions: a direct message with an idea or a report, without /start.

The bot asks only what it needs (is it an idea or a report, and the neighbourhood);
nobody is asked to sign up.
"""

from __future__ import annotations

import re

from pydantic import Field

from bot.core.context import Ctx
from bot.core.drafts import Draft
from bot.core.events import Button
from bot.core.i18n import N_, _, fold
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.core.text import clean, first_line, has_words
from bot.handlers import ideas
from bot.handlers.common import guarded, please_choose
from bot.handlers.signals import mine
from bot.handlers.signals import report as signals
from storage.repo import places
from storage.repo import signals as signal_refs

router = Router("contribute")

GREETINGS = frozenset({"hoi", "hallo", "hey", "hi", "hello", "goedemorgen", "goedemiddag",
                       "goedenavond", "dag", "hee", "salam", "merhaba"})  # fmt: skip
_PREFIX = re.compile(r"^\s*(idee|idea|melding|report)\s*[:\-–]\s*", re.IGNORECASE)


_SIGNAL_REF = re.compile(r"\s*M-?\s*\d", re.IGNORECASE)  # M-1042 (a bare 1042 may be anything)


class OneOff(StatesGroup):
    interrupted = N_("You were sending me a message.")
    kind = State()


class OneOffDraft(Draft):
    """A message kept while its writer says whether it is an idea or a report."""

    text: str = Field(min_length=1)


def _kind_buttons(ctx: Ctx) -> list[Button]:
    return [
        ctx.choice(OneOff.kind, _("It is an idea"), "idea"),
        ctx.choice(OneOff.kind, _("It is a problem"), "signal"),
    ]


@router.message(kinds=("text",))
async def free_text(ctx: Ctx) -> None:
    text = clean(ctx.event.text)
    number = signal_refs.parse_reference(text) if _SIGNAL_REF.match(text) else None
    if number is not None:  # "M-1042": that report
        await mine.open_by_number(ctx, number)
        return
    if fold(text).strip("!.? ") in GREETINGS or not has_words(text):
        await ctx.reply(
            _("Hi! You can send me an idea or a problem in your neighbourhood, in your own words.")
            + "\n"
            + _("Type /start to choose your neighbourhood and themes, or /help to see everything.")
        )
        return
    m = _PREFIX.match(text)
    if m:
        kind = "idea" if fold(m.group(1)) in ("idee", "idea") else "signal"
        await continue_as(ctx, kind, text[m.end() :].strip() or text)
        return
    await ctx.ask(
        _("Thank you for your message! Is it an idea, or a problem you want to report?"),
        OneOff.kind,
        _kind_buttons(ctx),
        text=text,
    )


@router.state(OneOff.kind)
@guarded("help", OneOffDraft)
async def chosen_kind(ctx: Ctx) -> None:
    kind = ctx.event.button_data if ctx.event.kind == "button" else None
    if kind not in ("idea", "signal"):
        await please_choose(ctx, _kind_buttons(ctx))
        return
    await continue_as(ctx, kind, OneOffDraft.of(ctx).text)


async def continue_as(ctx: Ctx, kind: str, text: str) -> None:
    ctx.dialog.clear()
    if kind == "idea":
        ctx.dialog.update(title=first_line(text), body=text, theme_id=None)
        await ideas.ask_where_or_confirm(ctx)
    else:
        await signals.next_step(ctx, text=text, category="other")


@router.message(kinds=("photo", "location"))
async def attachment_first(ctx: Ctx) -> None:
    """A photo or a location sent out of the blue starts a report."""
    event = ctx.event
    if event.kind == "photo" and event.attachment is not None:
        ctx.dialog.update(photo_platform=event.attachment.platform, photo=event.attachment.file_id)
    elif event.location is not None:
        ctx.dialog.update(lat=event.location.lat, lon=event.location.lon)
    await signals.next_step(ctx)


async def start_from_link(ctx: Ctx, payload: str) -> bool:
    """Deep links open a flow: `melding-schalkwijk` or `idee-delftwijk` for a neighbourhood.

    A link naming a command (`/start melding`, from a group's "private chat" button) is
    routed by the dispatcher as that command, with its checks; it never comes here.
    """
    kind, _sep, slug = payload.partition("-")
    kind = {"melding": "signal", "report": "signal", "idee": "idea", "idea": "idea"}.get(kind, "")
    if not slug:
        return False
    hood = await places.neighbourhood_by_slug(ctx.session, slug)
    if not kind or hood is None:
        return False
    ctx.dialog.update(neighbourhood_id=hood.id)
    if kind == "signal":
        await ctx.reply(_("Report a problem in {name}.").format(name=hood.name))
        await signals.next_step(ctx)
    else:
        await ctx.ask(
            _("Share an idea for {name}. Give it a short title.").format(name=hood.name),
            ideas.IdeaForm.title,
        )
    return True
