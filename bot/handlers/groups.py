"""Group chats: a coordinator links a group to a neighbourhood (and optionally a theme)."""

from __future__ import annotations

from bot.core.callbacks import CallbackData, StaleButton
from bot.core.context import Ctx
from bot.core.events import Button
from bot.core.i18n import N_, _, fold
from bot.core.permissions import can_coordinate
from bot.core.router import Router
from bot.handlers.common import match_neighbourhood
from bot.handlers.initiatives import initiative_ref, link_group
from storage.models import Neighbourhood, Theme
from storage.repo import audit, channels, places

router = Router("groups")


class LinkGroup(CallbackData, prefix="grp", hint=N_("Type /koppel again.")):
    neighbourhood: int


@router.command("koppel", "link", in_groups=True)
async def link(ctx: Ctx) -> None:
    initiative = initiative_ref(ctx.event.args)
    if initiative is not None:  # `/koppel I-12`: an initiator links their team's group
        await link_group(ctx, initiative)
        return
    if not ctx.coordinator_of:
        await ctx.reply(
            _(
                "Only a coordinator of the neighbourhood can do this. Type /help to see what you can do."
            )
        )
        return
    if ctx.is_direct:
        await ctx.reply(_("Use /koppel in the group chat you want to link to your neighbourhood."))
        return
    mine = [n for n in await places.neighbourhoods(ctx.session) if n.id in ctx.coordinator_of]
    words = ctx.event.args.split()
    hood, theme_words = _pick_neighbourhood(words, mine)
    if hood is None and words:
        everyone = await places.neighbourhoods(ctx.session)
        other, _rest = _pick_neighbourhood(words, everyone)
        if other is not None:
            await ctx.reply(
                _(
                    "You are not a coordinator of {name}, so you cannot link this group to it."
                ).format(name=other.name)
            )
            return
    if hood is None:
        if len(mine) == 1 and not words:
            hood = mine[0]
        else:
            await ctx.reply(
                _("Which neighbourhood should this group belong to?"),
                [Button(n.name, LinkGroup(n.id or 0).pack()) for n in mine],
            )
            return
    theme = await _pick_theme(ctx, hood, theme_words)
    if theme_words and theme is None:
        names = ", ".join(
            t.name_in(ctx.locale) for t in await places.themes_for(ctx.session, hood.id)
        )
        await ctx.reply(_("I don't know that theme. Choose one of: {names}.").format(names=names))
        return
    await _link(ctx, hood, theme)


def _pick_neighbourhood(
    words: list[str], options: list[Neighbourhood]
) -> tuple[Neighbourhood | None, list[str]]:
    """The longest run of leading words that names a neighbourhood; the rest may name a theme."""
    for n in range(len(words), 0, -1):
        found = match_neighbourhood(" ".join(words[:n]), options)
        if found is not None:
            return found, words[n:]
    return None, words


async def _pick_theme(ctx: Ctx, hood: Neighbourhood, words: list[str]) -> Theme | None:
    wanted = fold(" ".join(words))
    if not wanted:
        return None
    for theme in await places.themes_for(ctx.session, hood.id):
        if wanted in {fold(theme.slug), *(fold(n) for n in theme.names.values())}:
            return theme
    return None


@router.callback(LinkGroup, role="coordinator")
async def link_pressed(ctx: Ctx) -> None:
    hood = await places.neighbourhood(ctx.session, LinkGroup.of(ctx).neighbourhood)
    if hood is None or ctx.is_direct:
        raise StaleButton(LinkGroup.hint)
    await _link(ctx, hood, None)


async def _link(ctx: Ctx, hood: Neighbourhood, theme: Theme | None) -> None:
    assert hood.id is not None
    if not can_coordinate(ctx.coordinator_of, hood.id):
        await ctx.reply(
            _("You are not a coordinator of {name}, so you cannot link this group to it.").format(
                name=hood.name
            )
        )
        return
    chat = ctx.event.chat
    current = await channels.channel(ctx.session, chat.platform, chat.id)
    if (
        current is not None
        and current.neighbourhood_id is not None
        and not can_coordinate(ctx.coordinator_of, current.neighbourhood_id)
    ):
        linked = await places.neighbourhood(ctx.session, current.neighbourhood_id)
        await ctx.reply(
            _("You are not a coordinator of {name}, so you cannot unlink this group.").format(
                name=linked.name if linked else "?"
            )
        )
        return
    await channels.link_group(
        ctx.session, chat.platform, chat.id, hood.id, theme.id if theme else None
    )
    await audit.record(
        ctx.session, ctx.person.id if ctx.person else None, "group.linked", "neighbourhood", hood.id,
        platform=chat.platform, chat=chat.id, theme=theme.slug if theme else None,
    )  # fmt: skip
    if theme is not None:
        text = (
            _("This group is now linked to {name}, theme {theme}.")
            + " "
            + _(
                "Who follows {theme} in {name} can ask me for a way into this group: "
                "for that I need the right to invite people here."
            )
        ).format(name=hood.name, theme=theme.name_in(ctx.locale))
    else:
        text = _("This group is now linked to {name}.").format(name=hood.name)
    await ctx.edit(
        text
        + " "
        + _("Ideas, polls and announcements for {name} can now appear here.").format(name=hood.name)
    )


@router.command("ontkoppel", "unlink", role="coordinator", in_groups=True)
async def unlink(ctx: Ctx) -> None:
    chat = ctx.event.chat
    found = await channels.channel(ctx.session, chat.platform, chat.id)
    if ctx.is_direct or found is None or found.neighbourhood_id is None:
        await ctx.reply(_("This chat is not linked to a neighbourhood."))
        return
    hood = await places.neighbourhood(ctx.session, found.neighbourhood_id)
    if not can_coordinate(ctx.coordinator_of, found.neighbourhood_id):
        await ctx.reply(
            _("You are not a coordinator of {name}, so you cannot unlink this group.").format(
                name=hood.name if hood else "?"
            )
        )
        return
    await channels.unlink_group(ctx.session, chat.platform, chat.id)
    await audit.record(
        ctx.session, ctx.person.id if ctx.person else None, "group.unlinked", "neighbourhood",
        found.neighbourhood_id, platform=chat.platform, chat=chat.id,
    )  # fmt: skip
    await ctx.reply(
        _("This group is no longer linked to {name}.").format(name=hood.name if hood else "?")
    )


@router.message(kinds=("joined",))
async def joined(ctx: Ctx) -> None:
    """The bot was added to a group: say hello and how to link it."""
    chat = ctx.event.chat
    if chat.kind != "group":
        return
    await channels.mark_reachable(ctx.session, chat.platform, chat.id, True)
    await ctx.reply(
        _("Hi all! I am Wijkbot, the chat helper of the neighbourhood platform.")
        + "\n"
        + _(
            "A coordinator can link this group to a neighbourhood with /koppel followed by its name."
        )
        + "\n"
        + _("Type /help to see what I can do.")
    )


@router.message(kinds=("left",))
async def left(ctx: Ctx) -> None:
    """The bot was removed: stop sending there (nothing to say, nobody would read it)."""
    await channels.mark_reachable(ctx.session, ctx.event.chat.platform, ctx.event.chat.id, False)
