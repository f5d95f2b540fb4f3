"""/help: what the bot can do, for residents and for coordinators.

`MENU` is the one list of commands: the help text and the platforms' command menus
(Telegram's setMyCommands) are both built from it.
"""

from __future__ import annotations

from bot.core.commands import MenuEntry
from bot.core.context import Ctx
from bot.core.events import Button
from bot.core.i18n import N_, _, compose
from bot.core.router import Router
from bot.services import web_login

router = Router("help")


MENU = (
    MenuEntry("idee", N_("share an idea for the neighbourhood"), english="idea"),
    MenuEntry("ideeen", N_("see recent ideas and support them"), in_groups=True, english="ideas"),
    MenuEntry(
        "mijnideeen", N_("see your ideas, their supporters and offers of help"), english="myideas"
    ),
    MenuEntry(
        "wijkbudget", N_("neighbourhood budget: propose and support projects"), english="budget"
    ),
    MenuEntry("stem", N_("vote in the neighbourhood budget, in a private chat"), english="vote"),
    MenuEntry(
        "melding", N_("report a problem (a street light, litter, a loose tile)"), english="report"
    ),
    MenuEntry("mijnmeldingen", N_("see what happened to your reports"), english="myreports"),
    MenuEntry(
        "gesprek",
        N_("give your view in a conversation: agree or disagree with statements"),
        in_groups=True,
        english="conversation",
    ),
    MenuEntry(
        "wijkforum", N_("join the pool of a neighbourhood forum drawn by lot"), english="forum"
    ),
    MenuEntry("leeftijd", N_("share your age group, if you like"), english="age"),
    MenuEntry("themas", N_("choose the themes you follow"), english="themes"),
    MenuEntry(
        "overzicht", N_("choose how often you get a digest of what is new"), english="digest"
    ),
    MenuEntry("wijk", N_("change your neighbourhood"), english="neighbourhood"),
    MenuEntry("taal", N_("change the language"), english="language"),
    MenuEntry("mijngegevens", N_("see what we store about you"), english="mydata"),
    MenuEntry("vergeetmij", N_("erase your data"), english="forgetme"),
    MenuEntry("stop", N_("stop what you are doing")),
    MenuEntry("help", N_("what I can do"), in_groups=True),
    MenuEntry(
        "meldingen",
        N_("new and open reports in your neighbourhood"),
        "coordinator",
        english="reports",
    ),
    MenuEntry(
        "dashboard",
        N_("a link to the web overview of the reports (works once, for {minutes} minutes)"),
        "coordinator",
        values=lambda: {"minutes": web_login.login_minutes()},
    ),
    MenuEntry(
        "nieuwwijkforum",
        N_("open a neighbourhood forum drawn by lot"),
        "coordinator",
        english="newforum",
    ),
    MenuEntry(
        "wiemister",
        N_("who takes part, by age, against the residents"),
        "coordinator",
        english="missing",
    ),
    MenuEntry(
        "peiling",
        N_("ask the neighbourhood a question"),
        "coordinator",
        usage=N_("Question? | answer | answer"),
        english="poll",
    ),
    MenuEntry(
        "nieuwgesprek",
        N_("open a conversation: a question and statements to vote on"),
        "coordinator",
        usage=N_("Question? | statement | statement"),
        english="newconversation",
    ),
    MenuEntry("peilingen", N_("see, and close, your open polls"), "coordinator", english="polls"),
    MenuEntry(
        "aankondiging",
        N_("send an announcement or an event to the neighbourhood"),
        "coordinator",
        english="announce",
    ),
    MenuEntry("partners", N_("see partner organisations, allow their news"), "coordinator"),
    MenuEntry(
        "aankondigingen",
        N_("see events to come, how many come, and cancel one"),
        "coordinator",
        english="announcements",
    ),
    MenuEntry(
        "budgetronde",
        N_("create and manage a neighbourhood budget round"),
        "coordinator",
        english="budgetround",
    ),
    MenuEntry(
        "status",
        N_("change the status of a report"),
        "coordinator",
        usage=N_("M-1042 accepted [note]"),
    ),
    MenuEntry(
        "koppel",
        N_("in a group chat: link the group to your neighbourhood"),
        "coordinator",
        in_groups=True,
        usage=N_("Schalkwijk [theme]"),
        english="link",
    ),
    MenuEntry(
        "ontkoppel",
        N_("in a group chat: undo the link"),
        "coordinator",
        in_groups=True,
        english="unlink",
    ),
)


def _line(entry: MenuEntry, prefix: str) -> str:
    """ "/melding – report a problem"; in Arabic "/melding" keeps its order (isolated)."""
    command = (
        "/{name}" if prefix == "/" else prefix.replace("{", "{{").replace("}", "}}") + "{name}"
    )
    usage = _(entry.usage) if entry.usage else ""
    template = f"{command} {{usage}} – {{what}}" if usage else f"{command} – {{what}}"
    return compose(template, name=entry.shown(), usage=usage, what=entry.what())


def resident_help(prefix: str = "/") -> str:
    lines = [_("This is what I can do:")]
    lines += [_line(e, prefix) for e in MENU if e.audience == "resident" and e.name != "help"]
    lines.append(_("You can also just send me a message with your idea or report."))
    return "\n".join(lines)


def coordinator_help(prefix: str = "/") -> str:
    lines = [_("For coordinators:")]
    lines += [_line(e, prefix) for e in MENU if e.audience == "coordinator"]
    return "\n".join(lines)


@router.command("help", "hulp", in_groups=True, while_busy="pause")
async def show_help(ctx: Ctx) -> None:
    if not ctx.is_direct:
        await _group_help(ctx)
        return
    text = resident_help()
    if ctx.is_coordinator:
        text += "\n\n" + coordinator_help()
    await ctx.reply(text)


async def _group_help(ctx: Ctx) -> None:
    """In a group: three lines and a way to a private chat, so the group is not flooded."""
    lines = [
        _("I am the neighbourhood bot."),
        _("Here in the group: /ideeen shows the ideas of the neighbourhood."),
    ]
    link = ctx.direct_link("help")
    if link:
        lines.append(_("For everything else, talk to me in a private chat."))
        await ctx.reply("\n".join(lines), [Button(_("Open a private chat"), "", url=link)])
    else:
        lines.append(_("For everything else, send me a direct message with /help."))
        await ctx.reply("\n".join(lines))
