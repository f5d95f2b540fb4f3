"""/dashboard: a coordinator's one-time link to the web overview (`bot.web`).

Only in a direct chat (a link in a group would let anyone in), only for coordinators,
valid for `LOGIN_VALID` (10 minutes) and for one use; only its hash is stored.
"""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.i18n import _
from bot.core.router import Router
from bot.services import web_login
from storage.repo import audit, web

router = Router("dashboard")


@router.command("dashboard", role="coordinator")
async def dashboard(ctx: Ctx) -> None:
    base = ctx.settings.web_url
    if base is None:
        await ctx.reply(_("The web overview is not turned on. Ask the operator of the bot."))
        return
    person = await ctx.ensure_person()
    assert person.id is not None
    token = await web.create_login(ctx.session, person.id, ctx.clock.now(), web_login.LOGIN_VALID)
    await audit.record(ctx.session, person.id, "web.link", "person", person.id)
    await ctx.reply(
        _(
            "Your link to the web overview: {link}\n"
            "It works once, for {minutes} minutes. Do not share it: it logs you in."
        ).format(link=f"{base}/login/{token}", minutes=web_login.login_minutes())
    )
