"""Results on request, a coordinator's open polls, and closing one early."""

from __future__ import annotations

from typing import Literal

from bot.core.callbacks import CallbackData, StaleButton
from bot.core.context import Ctx
from bot.core.events import Button, keyboard
from bot.core.i18n import N_, _, number, when
from bot.core.paging import Page
from bot.core.permissions import can_coordinate
from bot.core.router import Router
from bot.delivery.broadcast import groups_text, residents_text
from bot.handlers.polls.vote import is_closed
from bot.services.polls import (
    PollResults,
    ShowPoll,
    close_poll,
    may_see,
    poll_buttons,
    poll_text,
    results_text,
)
from storage.repo import audit, polls

router = Router("polls_results")


@router.callback(PollResults)
async def results_button(ctx: Ctx) -> None:
    poll = await polls.get(ctx.session, PollResults.of(ctx).poll)
    if poll is None:
        await ctx.reply(_("This poll no longer exists."))
        return
    if not await may_see(ctx.session, poll, ctx.actor):
        raise StaleButton()
    closed = is_closed(poll, ctx.clock.now())
    # A coordinator may look early, but only in a private chat: never for a whole group.
    mine = ctx.is_direct and can_coordinate(ctx.coordinator_of, poll.neighbourhood_id)
    if not (closed or poll.live_results or mine):
        await ctx.reply(
            _("The results are shared after closing, on {moment}.").format(
                moment=when(poll.closes_at)
            )
        )
        return
    tally = await polls.tally(ctx.session, poll)
    await ctx.reply(results_text(poll, tally, closed=poll.closed_at is not None))


@router.callback(ShowPoll)
async def show_poll(ctx: Ctx) -> None:
    """From a digest: the poll with its vote buttons while open, its results once closed."""
    poll = await polls.get(ctx.session, ShowPoll.of(ctx).poll)
    if poll is None or poll.sent_at is None or not await may_see(ctx.session, poll, ctx.actor):
        raise StaleButton()
    if is_closed(poll, ctx.clock.now()):
        tally = await polls.tally(ctx.session, poll)
        await ctx.reply(results_text(poll, tally, closed=poll.closed_at is not None))
        return
    await ctx.reply(poll_text(poll), keyboard(*poll_buttons(poll)))


POLLS_PAGE = 4  # two buttons each, and Previous / Next: ten


class OpenPollsPage(CallbackData, prefix="plp", hint=N_("Type /peilingen to see them again.")):
    """Previous / Next under a coordinator's open polls."""

    page: int


@router.command("peilingen", "polls", role="coordinator")
async def my_polls(ctx: Ctx) -> None:
    await show_open_polls(ctx, 0)


@router.callback(OpenPollsPage, role="coordinator")
async def my_polls_page(ctx: Ctx) -> None:
    await show_open_polls(ctx, OpenPollsPage.of(ctx).page)


async def show_open_polls(ctx: Ctx, index: int) -> None:
    """A page of open polls, the first to close first, with Results and Close buttons."""
    total = await polls.count_open(ctx.session, ctx.coordinator_of)
    page = Page.at(index, total, POLLS_PAGE)
    found = await polls.open_polls(ctx.session, ctx.coordinator_of, page.size, page.offset)
    if not found:
        await ctx.edit(_("There are no open polls. Start one with /peiling."))
        return
    lines = [_("Open polls:")]
    if page.total > page.size:
        lines.append(page.counter())
    buttons: list[Button] = []
    for poll in found:
        assert poll.id is not None
        voters = await polls.count_votes(ctx.session, poll.id)
        lines.append(
            _("P-{id} “{question}”: {voters} voted, closes {moment}").format(
                id=poll.id,
                question=poll.question,
                voters=number(voters),
                moment=when(poll.closes_at),
            )
        )
        buttons.append(Button(_("Results P-{id}").format(id=poll.id), PollResults(poll.id).pack()))
        buttons.append(Button(_("Close P-{id} now").format(id=poll.id), ClosePoll(poll.id).pack()))
    nav = page.buttons(lambda i: OpenPollsPage(i).pack())
    await ctx.edit("\n".join(lines), keyboard(*buttons, nav))


class ClosePoll(CallbackData, prefix="pc"):
    poll: int
    confirm: Literal["yes"] | None = None


@router.callback(ClosePoll, role="coordinator")
async def close_button(ctx: Ctx) -> None:
    pressed = ClosePoll.of(ctx)
    poll = await polls.get(ctx.session, pressed.poll)
    if poll is None or not can_coordinate(ctx.coordinator_of, poll.neighbourhood_id):
        raise StaleButton()
    if poll.closed_at is not None:
        await ctx.edit(_("This poll is already closed."))
        return
    if pressed.confirm != "yes":
        await ctx.edit(
            _("Close “{question}” now? Everyone gets the results.").format(question=poll.question),
            [
                Button(_("Yes, close it now"), ClosePoll(pressed.poll, "yes").pack()),
                Button(_("No"), "cancel"),
            ],
        )
        return
    now = ctx.clock.now()
    reach = await close_poll(ctx.session, poll, now, ctx.settings.default_locale)
    if reach is None:
        await ctx.edit(_("This poll is already closed."))
        return
    await audit.record(ctx.session, ctx.person.id if ctx.person else None, "poll.closed", "poll",
                       poll.id, early=True)  # fmt: skip
    await ctx.edit(
        _("Closed. The results go to {groups} and {residents}.").format(
            groups=groups_text(reach.groups), residents=residents_text(reach.residents)
        )
    )
