"""Pieces several dialogs share: picking a neighbourhood, checking typed text."""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core.context import Ctx
from bot.core.drafts import Draft
from bot.core.events import Button
from bot.core.i18n import _, fold, when
from bot.core.router import Handler
from bot.core.states import State
from bot.core.text import MAX_TITLE, clean, has_words, whole_number
from bot.delivery.notify import tell
from bot.services import quotas
from bot.util.when import in_days, parse_moment
from storage.models import Neighbourhood
from storage.repo import channels, people, places


def match_neighbourhood(text: str, options: list[Neighbourhood]) -> Neighbourhood | None:
    """Forgiving of case, accents, dashes, a missing word and small typos."""
    wanted = fold(text)
    if not wanted:
        return None
    by_fold = {fold(n.name): n for n in options} | {fold(n.slug): n for n in options}
    if wanted in by_fold:
        return by_fold[wanted]
    starts = [n for key, n in by_fold.items() if key.startswith(wanted) and len(wanted) >= 3]
    if len({n.id for n in starts}) == 1:
        return starts[0]
    close = difflib.get_close_matches(wanted, list(by_fold), n=1, cutoff=0.8)
    return by_fold[close[0]] if close else None


async def ask_neighbourhood(ctx: Ctx, state: State, question: str | None = None) -> bool:
    """Ask which neighbourhood; False (and an explanation) if none is set up yet."""
    options = await places.neighbourhoods(ctx.session)
    if not options:
        await ctx.reply(
            _("No neighbourhoods have been set up yet. Ask a coordinator to run 'wijkbot setup'.")
        )
        ctx.dialog.clear()
        return False
    buttons = [ctx.choice(state, n.name, str(n.id)) for n in options]
    await ctx.ask(
        question or _("Which neighbourhood is it about? Choose one, or type its name."),
        state,
        buttons,
    )
    return True


async def read_neighbourhood(ctx: Ctx) -> Neighbourhood | None:
    """The neighbourhood picked by button or typed name; tells the user when unclear."""
    options = await places.neighbourhoods(ctx.session)
    event = ctx.event
    chosen: Neighbourhood | None = None
    if event.kind == "button" and (picked := whole_number(event.button_data or "")) is not None:
        chosen = next((n for n in options if n.id == picked), None)
    elif event.kind == "text":
        chosen = match_neighbourhood(event.text, options)
    if chosen is None:
        await ctx.reply(
            _("I don't know that neighbourhood. Choose one of the buttons, or check the spelling."),
            [ctx.choice(State(ctx.dialog.state or ""), n.name, str(n.id)) for n in options]
            + [ctx.cancel_button()],
        )
    return chosen


async def group_neighbourhood(ctx: Ctx) -> Neighbourhood | None:
    """The neighbourhood the group chat is linked to, if any."""
    linked = await channels.channel(ctx.session, ctx.event.chat.platform, ctx.event.chat.id)
    if linked is None or linked.neighbourhood_id is None:
        return None
    return await places.neighbourhood(ctx.session, linked.neighbourhood_id)


async def home_of(ctx: Ctx) -> Neighbourhood | None:
    if ctx.person is None or ctx.person.id is None:
        return None
    return await people.home_neighbourhood(ctx.session, ctx.person.id)


async def read_text(ctx: Ctx, *, title: bool = False) -> str | None:
    """Typed text from the event, cleaned; None (and a kind reply) if it can't be used."""
    if ctx.event.kind != "text":
        await ctx.reply(
            _("Please type your answer as text, or choose Cancel."), [ctx.cancel_button()]
        )
        return None
    text = clean(ctx.event.text)
    if not has_words(text):
        await ctx.reply(
            _("Please use a few words, not only symbols or emoji. Or choose Cancel."),
            [ctx.cancel_button()],
        )
        return None
    if title and len(text) > MAX_TITLE:
        await ctx.reply(
            _(
                "That is a bit long for a title ({count} characters). Keep it under {limit} characters."
            ).format(count=len(text), limit=MAX_TITLE),
            [ctx.cancel_button()],
        )
        return None
    return text


async def free_at(ctx: Ctx, action: quotas.Action) -> datetime | None:
    """None when this person may do `action` now; else from when (see `bot.services.quotas`)."""
    person_id = ctx.person.id if ctx.person is not None else None
    return await quotas.free_at(
        ctx.session, action, person_id, ctx.clock.now(), coordinator=ctx.is_coordinator
    )


async def please_choose(ctx: Ctx, buttons: list[Button]) -> None:
    await ctx.reply(_("Please choose one of the buttons."), [*buttons, ctx.cancel_button()])


async def lost(ctx: Ctx, command: str) -> None:
    """The dialog lost what it needs (an old or damaged conversation): start again."""
    ctx.dialog.clear()
    await ctx.reply(
        _(
            "Sorry, I lost track of this conversation. Nothing was saved. Type /{command} to start again."
        ).format(command=command)
    )


def guarded(
    command: str, *drafts: type[Draft], coordinator: bool = False
) -> Callable[[Handler], Handler]:
    """A dialog step that needs valid `drafts` in the dialog (and a coordinator, if so
    marked).

    An old or damaged dialog, or a coordinator whose role ended meanwhile, is told kindly
    and starts again, instead of hitting an error. The step reads its draft with `.of(ctx)`:
    validated here once, not again.
    """

    def wrap(step: Handler) -> Handler:
        @functools.wraps(step)
        async def checked(ctx: Ctx) -> None:
            if (coordinator and not ctx.coordinator_of) or not all(d.holds(ctx) for d in drafts):
                await lost(ctx, command)
                return
            await step(ctx)

        return checked

    return wrap


async def answer_voter(ctx: Ctx, text: str) -> None:
    """In a direct chat, answer there; from a group, answer privately when we can.

    Polls and conversations alike: a group is not flooded with everyone's vote confirmations.
    """
    if ctx.is_direct:
        await ctx.reply(text)
        return
    if ctx.person is not None and await tell(ctx.session, ctx.person, lambda: text):
        return
    # No private chat yet: the group must not see what someone chose.
    neutral = _("Thank you, your vote is counted. Open a private chat with me to see it.")
    link = ctx.direct_link("start")
    await ctx.reply(neutral, [Button(_("Open a private chat"), "", url=link)] if link else [])


def moment_choices(ctx: Ctx, state: State, days: tuple[int, ...]) -> list[Button]:
    """Quick choices for an end moment: in this many days, each shown as its date."""
    now = ctx.clock.now()
    return [ctx.choice(state, when(in_days(now, n)), str(n)) for n in days]


def chosen_moment(ctx: Ctx) -> datetime | None:
    """The moment of a `moment_choices` press, or the one typed; None if it is neither."""
    now = ctx.clock.now()
    days = whole_number(ctx.event.button_data or "", at_most=366)
    if ctx.event.kind == "button" and days is not None:
        return in_days(now, days)
    if ctx.event.kind == "text":
        return parse_moment(ctx.event.text, now)
    return None


# Letter codes (voting, forum pools) have 60 random bits, so guessing cannot work; still,
# nobody gets to try many.
GUESS_LIMIT = 5  # well-formed but unknown codes …
GUESS_WINDOW = timedelta(minutes=15)  # … within this time; then wait until it has passed
WRONG_CODES = "wrong_codes"  # sticky: kept across /stop and new dialogs, for GUESS_WINDOW


def wrong_codes(ctx: Ctx) -> list[datetime]:
    """When this chat typed a well-formed but unknown code, within the last GUESS_WINDOW."""
    since = ctx.clock.now() - GUESS_WINDOW
    times = [datetime.fromisoformat(t) for t in ctx.dialog.sticky(WRONG_CODES) or []]
    return [t for t in times if t > since]


def guess_wait(ctx: Ctx) -> int | None:
    """Minutes this chat must wait before typing another code; None when it may go on."""
    wrong = wrong_codes(ctx)
    if len(wrong) < GUESS_LIMIT:
        return None
    wait = min(wrong) + GUESS_WINDOW - ctx.clock.now()
    return max(1, math.ceil(wait.total_seconds() / 60))


def note_wrong_code(ctx: Ctx) -> None:
    now = ctx.clock.now()
    times = [t.isoformat() for t in [*wrong_codes(ctx), now]]
    ctx.dialog.stick(WRONG_CODES, times, now + GUESS_WINDOW)
