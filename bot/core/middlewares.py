"""Middlewares: identity (account -> person), locale and roles, run around every handler."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.dispatcher import Next
from bot.core.i18n import normalise_locale, set_locale
from storage.repo import people


async def identity(nxt: Next, ctx: Ctx) -> None:
    """Find the person behind the platform account; nobody is created just for writing."""
    user = ctx.event.user
    ctx.person = await people.person_for_account(ctx.session, user.platform, user.id)
    if ctx.person is not None and ctx.person.id is not None:
        ctx.coordinator_of = await people.coordinated_neighbourhoods(ctx.session, ctx.person.id)
        if ctx.is_direct:
            await people.remember_direct_chat(
                ctx.session, ctx.person.id, ctx.event.chat.platform, ctx.event.chat.id
            )
    await nxt(ctx)


async def locale(nxt: Next, ctx: Ctx) -> None:
    """The person's chosen language, else the platform's, else the configured default."""
    default = ctx.settings.default_locale
    if ctx.person is not None:
        set_locale(normalise_locale(ctx.person.locale, default))
    elif "locale" in ctx.dialog.data:  # chosen during onboarding, before we store anybody
        set_locale(normalise_locale(str(ctx.dialog.data["locale"]), default))
    else:
        set_locale(normalise_locale(ctx.event.user.language_code, default))
    await nxt(ctx)


DEFAULT_MIDDLEWARES = (identity, locale)
