"""Theme groups: following a theme offers the group chat a coordinator linked to that theme
in my neighbourhood. The way in (a one-person invite link on Telegram, an invite to the room
on Matrix) is made only when asked, after one question: may I welcome you there by first
name? Only that yes is kept, used once when they join, and nobody else is ever named."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from bot.core.callbacks import CallbackData, StaleButton
from bot.core.context import Ctx
from bot.core.events import Button
from bot.core.i18n import N_, _
from bot.core.router import Router
from bot.handlers.common import home_of
from storage.models import Channel, Theme
from storage.repo import channels, places, theme_groups

router = Router("theme_groups")

WELCOME_WINDOW = timedelta(days=7)  # a yes not used by then is dropped


class JoinThemeGroup(CallbackData, prefix="tg", hint=N_("Type /themas to see the themes again.")):
    """ "Join the group chat", then the answer to the welcome question: `tg:{channel}:{step}`."""

    channel: int
    step: Literal["ask", "yes", "no"]


async def group_offer(ctx: Ctx, neighbourhood_id: int, theme: Theme) -> tuple[str, list[Button]]:
    """A line and a button when `theme` has a group chat here on this platform; else nothing."""
    if ctx.group_invite is None or theme.id is None:
        return "", []
    found = await theme_groups.theme_group(
        ctx.session, ctx.event.user.platform, neighbourhood_id, theme.id
    )
    if found is None or found.id is None:
        return "", []
    line = _("{theme} has a group chat in your neighbourhood. Do you want to join it?").format(
        theme=theme.name_in(ctx.locale)
    )
    return line, [Button(_("Join the group chat"), JoinThemeGroup(found.id, "ask").pack())]


async def _offered(ctx: Ctx, channel_id: int) -> tuple[Channel, Theme] | None:
    """The group, if it is still the group of a theme I follow in my neighbourhood, here."""
    found = await channels.channel_by_id(ctx.session, channel_id)
    home = await home_of(ctx)
    if (
        found is None
        or found.kind != "group"
        or not found.reachable
        or found.theme_id is None
        or found.platform != ctx.event.user.platform
        or home is None
        or found.neighbourhood_id != home.id
        or ctx.person is None
        or ctx.person.id is None
        or found.theme_id not in await places.followed_theme_ids(ctx.session, ctx.person.id)
    ):
        return None
    theme = await places.theme(ctx.session, found.theme_id)
    return (found, theme) if theme is not None else None


@router.callback(JoinThemeGroup)
async def join_pressed(ctx: Ctx) -> None:
    press = JoinThemeGroup.of(ctx)
    offered = await _offered(ctx, press.channel)
    if offered is None or ctx.group_invite is None or ctx.person is None:
        raise StaleButton(JoinThemeGroup.hint)
    group, theme = offered
    assert group.id is not None and ctx.person.id is not None
    if press.step == "ask":
        await ctx.reply(
            _("May I welcome you in the group with your first name?"),
            [
                Button(_("Yes, welcome me"), JoinThemeGroup(group.id, "yes").pack()),
                Button(_("No thanks"), JoinThemeGroup(group.id, "no").pack()),
            ],
        )
        return
    link = await ctx.group_invite(group.chat_id, ctx.event.user.id)
    if link is None:
        await ctx.reply(
            _(
                "I cannot let you into the group chat right now. "
                "Please ask a coordinator of your neighbourhood."
            )
        )
        return
    welcome = press.step == "yes"
    await theme_groups.want_welcome(ctx.session, ctx.person.id, group.id, welcome)
    name = theme.name_in(ctx.locale)
    text = _("Here is your way into the group chat of {theme}.").format(theme=name)
    text += " " + (
        _("When you join, I will welcome you there with your first name.")
        if welcome
        else _("I will not mention you there.")
    )
    await ctx.reply(text, [Button(_("Open the group chat"), "", url=link)])


@router.message(kinds=("member_joined",))
async def member_joined(ctx: Ctx) -> None:
    """Someone joined a theme group: a welcome by first name only with their yes."""
    chat = ctx.event.chat
    if chat.kind != "group" or ctx.person is None or ctx.person.id is None:
        return
    found = await channels.channel(ctx.session, chat.platform, chat.id)
    if found is None or found.id is None or found.theme_id is None:
        return
    since = ctx.clock.now() - WELCOME_WINDOW
    if not await theme_groups.take_welcome(ctx.session, ctx.person.id, found.id, since):
        return
    first = (ctx.event.user.display_name or "").split()
    if first:
        await ctx.reply(_("Welcome, {name}! Nice that you are here.").format(name=first[0]))
