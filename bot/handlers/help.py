"""/help: what the bot can do, for residents and for coordinators."""

from __future__ import annotations

from bot.context import Ctx
from bot.i18n import _
from bot.router import Router

router = Router("help")


def resident_help(prefix: str = "/") -> str:
    p = prefix
    return "\n".join(
        [
            _("This is what I can do:"),
            _("{p}idee – share an idea for the neighbourhood").format(p=p),
            _("{p}ideeen – see recent ideas and support them").format(p=p),
            _("{p}melding – report a problem (a street light, litter, a loose tile)").format(p=p),
            _("{p}mijnmeldingen – see what happened to your reports").format(p=p),
            _("{p}themas – choose the themes you follow").format(p=p),
            _("{p}wijk – change your neighbourhood").format(p=p),
            _("{p}taal – change the language").format(p=p),
            _("{p}mijngegevens – see what we store about you").format(p=p),
            _("{p}vergeetmij – erase your data").format(p=p),
            _("{p}stop – stop what you are doing").format(p=p),
            _("You can also just send me a message with your idea or report."),
        ]
    )


def coordinator_help(prefix: str = "/") -> str:
    p = prefix
    return "\n".join(
        [
            _("For coordinators:"),
            _("{p}meldingen – new and open reports in your neighbourhood").format(p=p),
            _("{p}status M-1042 accepted [note] – change the status of a report").format(p=p),
            _(
                "{p}koppel Schalkwijk [theme] – in a group chat: link the group to your neighbourhood"
            ).format(p=p),
            _("{p}ontkoppel – in a group chat: undo the link").format(p=p),
        ]
    )


@router.command("help", "hulp", keeps_dialog=True, in_groups=True)
async def show_help(ctx: Ctx) -> None:
    text = resident_help()
    if ctx.is_coordinator:
        text += "\n\n" + coordinator_help()
    await ctx.reply(text)
