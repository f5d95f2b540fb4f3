"""The answer to "Do you want to get in touch?" after an accepted offer: each side answers
for themselves, in the moment; handles are shared only when both said yes."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.i18n import _
from bot.core.router import Router
from bot.services import introductions as introduce
from bot.services.introductions import Consent
from storage.repo import ideas, introductions

router = Router("introductions")


@router.callback(Consent)
async def consent(ctx: Ctx) -> None:
    pressed = Consent.of(ctx)
    intro = await introductions.introduction(ctx.session, pressed.intro)
    if intro is None:
        await ctx.reply(_("This question is no longer open."))
        return
    side = introduce.side_of(intro, ctx.actor)
    if side is None:
        await ctx.reply(_("Sorry, this question is not for you."))
        return
    idea = await ideas.idea(ctx.session, intro.idea_id)
    if idea is None or not await introduce.still_open(ctx.session, intro):
        await ctx.reply(_("This question is no longer open."))
        return
    if pressed.verb == "no":
        await introduce.end(ctx.session, intro, idea, side)
        await ctx.reply(_("All right. We shared nothing about you."))
        return
    user = ctx.event.user
    handle = introduce.handle_of(user)
    if handle is None:
        await ctx.reply(
            _(
                "To be introduced on Telegram you need a username. You can set one in "
                "Telegram: Settings, then Username. Then press “Yes” here again."
            ),
            introduce.consent_buttons(pressed.intro),
        )
        return
    both = introduce.record_yes(intro, side, user.platform, handle)
    ctx.session.add(intro)
    if not both:
        await ctx.reply(
            _("Thank you! We will let you know when the other person has answered too.")
        )
        return
    intro.status, intro.done_at = "done", ctx.clock.now()
    await ctx.reply(await introduce.connect(ctx.session, intro, idea, side))
