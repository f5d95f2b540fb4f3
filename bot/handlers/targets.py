"""Choosing who a broadcast goes to: a neighbourhood a coordinator runs, or one theme in it."""

from __future__ import annotations

from sqlmodel import SQLModel

from bot.core.context import Ctx
from bot.core.events import Button
from bot.core.i18n import _
from bot.core.permissions import can_coordinate
from bot.core.states import State
from bot.core.text import whole_number
from bot.delivery.broadcast import Reach
from storage.repo import places


async def target_name(ctx: Ctx, neighbourhood_id: int, theme_id: int | None) -> str:
    hood = await places.neighbourhood(ctx.session, neighbourhood_id)
    name = hood.name if hood else "?"
    if theme_id is None:
        return _("everyone in {name}").format(name=name)
    theme = await places.theme(ctx.session, theme_id)
    return _("followers of {theme} in {name}").format(
        theme=theme.name_in(ctx.locale) if theme else "?", name=name
    )


async def target_buttons(ctx: Ctx, state: State) -> list[Button]:
    """Each neighbourhood the coordinator runs, and each theme in it."""
    buttons: list[Button] = []
    for hood_id in ctx.coordinator_of:
        if await places.neighbourhood(ctx.session, hood_id) is None:
            continue
        label = await target_name(ctx, hood_id, None)
        buttons.append(ctx.choice(state, label, f"{hood_id}:"))
        for theme in await places.themes_for(ctx.session, hood_id):
            label = await target_name(ctx, hood_id, theme.id)
            buttons.append(ctx.choice(state, label, f"{hood_id}:{theme.id}"))
    return buttons


async def read_target(ctx: Ctx) -> tuple[int, int | None] | None:
    """The (neighbourhood, theme) a pressed target button names; None if not one of ours:
    a neighbourhood the coordinator runs, and no theme or one of that neighbourhood's."""
    raw = ctx.event.button_data if ctx.event.kind == "button" else None
    hood, _sep, theme = (raw or "").partition(":")
    hood_id = whole_number(hood)
    if hood_id is None or not can_coordinate(ctx.coordinator_of, hood_id):
        return None
    if not theme:
        return hood_id, None
    theme_id = whole_number(theme)
    if theme_id not in {t.id for t in await places.themes_for(ctx.session, hood_id)}:
        return None
    return hood_id, theme_id


async def refused_for_nobody(ctx: Ctx, sent: SQLModel, reach: Reach) -> bool:
    """Nobody got it (no linked groups, no residents): undo it and say so; True then."""
    if reach.groups or reach.residents:
        return False
    await ctx.session.delete(sent)
    await ctx.reply(
        _(
            "Nobody would get this yet: there are no linked groups and no residents there. "
            "Link a group with /koppel, or choose who gets it."
        )
    )
    return True
