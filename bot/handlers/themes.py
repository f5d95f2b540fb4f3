"""/themas: the themes of my neighbourhood, tap to follow or unfollow (idempotent)."""

from __future__ import annotations

from typing import Literal

from bot.core.callbacks import CallbackData, StaleButton
from bot.core.context import Ctx
from bot.core.events import Button
from bot.core.i18n import N_, _
from bot.core.router import Router
from bot.core.states import State
from bot.core.text import whole_number
from bot.handlers.common import home_of
from bot.handlers.theme_groups import group_offer
from storage.repo import places

router = Router("themes")


class ThemeToggle(CallbackData, prefix="theme", hint=N_("Type /themas to see the themes again.")):
    """Follow or unfollow: the intent is in the button, so a double tap is harmless."""

    theme: int
    intent: Literal["on", "off"]


async def theme_buttons(
    ctx: Ctx, state: State | None, neighbourhood_id: int
) -> tuple[str, list[Button]]:
    """A line per theme saying whether I follow it, and a toggle button for each."""
    themes = await places.themes_for(ctx.session, neighbourhood_id)
    followed: set[int] = set()
    if ctx.person is not None and ctx.person.id is not None:
        followed = await places.followed_theme_ids(ctx.session, ctx.person.id)
    lines, buttons = [], []
    for t in themes:
        name = t.name_in(ctx.locale)
        on = t.id in followed
        lines.append(("✓ " if on else "· ") + name + (_(" (following)") if on else ""))
        label = (_("Unfollow {name}") if on else _("Follow {name}")).format(name=name)
        value = f"{t.id}:{'off' if on else 'on'}"  # the intent, so a double tap is harmless
        buttons.append(
            ctx.choice(state, label, value)
            if state
            else Button(label, ThemeToggle(t.id or 0, "off" if on else "on").pack())
        )
    if not themes:
        lines.append(_("There are no themes yet in this neighbourhood."))
    return "\n".join(lines), buttons


@router.command("themas", "themes", "thema", while_busy="pause")
async def list_themes(ctx: Ctx) -> None:
    home = await home_of(ctx)
    if home is None or home.id is None:
        await ctx.reply(_("First tell me your neighbourhood with /start."))
        return
    text, buttons = await theme_buttons(ctx, None, home.id)
    await ctx.reply(_("Themes in {name}:").format(name=home.name) + "\n" + text, buttons)


async def apply_theme_button(ctx: Ctx, value: str, neighbourhood_id: int) -> bool:
    """`<theme id>:on|off` from a theme button; False if it makes no sense (stale), or names
    a theme the buttons of this neighbourhood do not offer."""
    raw, _sep, intent = value.partition(":")
    theme_id = whole_number(raw)
    offered = {t.id: t for t in await places.themes_for(ctx.session, neighbourhood_id)}
    theme = offered.get(theme_id) if theme_id is not None else None
    if theme is None or theme.id is None or intent not in ("on", "off"):
        return False
    person = await ctx.ensure_person()
    assert person.id is not None
    if intent == "on":
        await places.follow(ctx.session, person.id, theme.id)
    else:
        await places.unfollow(ctx.session, person.id, theme.id)
    return True


@router.callback(ThemeToggle)
async def toggle_theme(ctx: Ctx) -> None:
    toggle = ThemeToggle.of(ctx)
    home = await home_of(ctx)
    value = f"{toggle.theme}:{toggle.intent}"
    if home is None or home.id is None or not await apply_theme_button(ctx, value, home.id):
        raise StaleButton(ThemeToggle.hint)
    text, buttons = await theme_buttons(ctx, None, home.id)
    text = _("Themes in {name}:").format(name=home.name) + "\n" + text
    theme = await places.theme(ctx.session, toggle.theme)
    if toggle.intent == "on" and theme is not None:
        offer, join = await group_offer(ctx, home.id, theme)
        text, buttons = (text + "\n\n" + offer, [*buttons, *join]) if offer else (text, buttons)
    await ctx.edit(text, buttons)


@router.command("volg", "follow", while_busy="pause")
async def follow_by_name(ctx: Ctx) -> None:
    await _by_name(ctx, follow=True)


@router.command("ontvolg", "unfollow", while_busy="pause")
async def unfollow_by_name(ctx: Ctx) -> None:
    await _by_name(ctx, follow=False)


async def _by_name(ctx: Ctx, follow: bool) -> None:
    from bot.core.i18n import fold

    home = await home_of(ctx)
    if home is None or home.id is None:
        await ctx.reply(_("First tell me your neighbourhood with /start."))
        return
    wanted = fold(ctx.event.args)
    themes = await places.themes_for(ctx.session, home.id)
    theme = next(
        (t for t in themes if wanted and wanted in {fold(n) for n in [t.slug, *t.names.values()]}),
        None,
    )
    if theme is None or theme.id is None:
        names = ", ".join(t.name_in(ctx.locale) for t in themes)
        await ctx.reply(_("Which theme? Choose one of: {names}.").format(names=names))
        return
    person = await ctx.ensure_person()
    assert person.id is not None
    name = theme.name_in(ctx.locale)
    if follow:
        changed = await places.follow(ctx.session, person.id, theme.id)
        msg = _("You now follow {name}.") if changed else _("You already follow {name}.")
        offer, join = await group_offer(ctx, home.id, theme)
        await ctx.reply(msg.format(name=name) + ("\n" + offer if offer else ""), join)
        return
    else:
        changed = await places.unfollow(ctx.session, person.id, theme.id)
        msg = _("You no longer follow {name}.") if changed else _("You were not following {name}.")
    await ctx.reply(msg.format(name=name))
