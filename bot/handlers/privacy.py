"""/mijngegevens shows what is stored about me; /vergeetmij erases it after a confirmation."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.i18n import _, ngettext, when
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.handlers.budget.vote import GUESS_WINDOW, wrong_codes
from bot.handlers.common import please_choose
from bot.services.ideas import idea_ref
from storage.models import Neighbourhood
from storage.repo import audit, budgets, ideas, limits, people, places, polls, signals

router = Router("privacy")


class Forget(StatesGroup):
    confirm = State()


@router.command("mijngegevens", "mydata", "privacy")
async def my_data(ctx: Ctx) -> None:  # noqa: C901 -- one section per kind of data
    person = ctx.person
    lines = [_("This is everything we store about you:")]
    if guesses := len(wrong_codes(ctx)):
        lines.append(
            ngettext(
                "You typed {n} unknown voting code in the last {minutes} minutes. We keep this for {minutes} minutes, to stop guessing.",
                "You typed {n} unknown voting codes in the last {minutes} minutes. We keep this for {minutes} minutes, to stop guessing.",
                guesses,
            ).format(n=guesses, minutes=int(GUESS_WINDOW.total_seconds() // 60))
        )
    if person is None or person.id is None:
        if guesses:
            await ctx.reply("\n".join(lines))
            return
        await ctx.reply(_("We store nothing about you. You have not shared anything with us yet."))
        return
    pid = person.id
    lines.append(_("Language: {code}").format(code=person.locale))
    lines.append(_("With us since: {date}").format(date=when(person.created_at)))
    for acc in await people.accounts_of(ctx.session, pid):
        lines.append(
            _("Account: {platform} {id}").format(platform=acc.platform, id=acc.platform_user_id)
        )
    for m in await people.memberships_of(ctx.session, pid):
        hood = await ctx.session.get(Neighbourhood, m.neighbourhood_id)
        name = hood.name if hood else "?"
        if m.is_home:
            lines.append(_("Your neighbourhood: {name}").format(name=name))
        if m.role == "coordinator":
            lines.append(_("Coordinator of: {name}").format(name=name))
    themes = await places.followed_theme_ids(ctx.session, pid)
    for tid in sorted(themes):
        theme = await places.theme(ctx.session, tid)
        if theme is not None:
            lines.append(_("You follow: {name}").format(name=theme.name_in(ctx.locale)))
    for idea in await ideas.ideas_by(ctx.session, pid):
        lines.append(_("Your idea {ref}: {title}").format(ref=idea_ref(idea.id), title=idea.title))
    supported = await ideas.supported_by(ctx.session, pid)
    if supported:
        refs = ", ".join(idea_ref(i) for i in sorted(supported))
        lines.append(_("Ideas you support: {refs}").format(refs=refs))
    for sig in await signals.signals_by(ctx.session, pid):
        lines.append(_("Your report {ref}: {text}").format(ref=sig.reference, text=sig.text[:80]))
    for sig in await signals.followed_by(ctx.session, pid):
        lines.append(_("You follow report {ref}").format(ref=sig.reference))
    for poll, options in await polls.votes_of(ctx.session, pid):
        chosen = ", ".join(poll.options[i] for i in options if 0 <= i < len(poll.options))
        lines.append(
            _("Your vote on “{question}”: {choice}.").format(question=poll.question, choice=chosen)
        )
    if counted := await limits.counted_for(ctx.session, pid):
        lines.append(
            ngettext(
                "The time of {n} vote change or proposal, for the hourly limits. We keep it for a day.",
                "The times of {n} vote changes and proposals, for the hourly limits. We keep them for a day.",
                counted,
            ).format(n=counted)
        )
    lines.append("")
    lines.append(
        _("We do not store your name or phone number. Type /vergeetmij to erase your data.")
    )
    await ctx.reply("\n".join(lines))


@router.command("vergeetmij", "forgetme")
async def forget_me(ctx: Ctx) -> None:
    if ctx.person is None:
        await ctx.reply(_("We store nothing about you, so there is nothing to erase."))
        return
    await ctx.ask(
        _("Do you want us to erase your data? This cannot be undone.")
        + "\n"
        + _("Your ideas and reports stay visible, but without any link to you."),
        Forget.confirm,
        [ctx.choice(Forget.confirm, _("Yes, erase my data"), "yes")],
    )


@router.state(Forget.confirm)
async def forget_confirmed(ctx: Ctx) -> None:
    if not (ctx.event.kind == "button" and ctx.event.button_data == "yes"):
        await please_choose(ctx, [ctx.choice(Forget.confirm, _("Yes, erase my data"), "yes")])
        return
    person = ctx.person
    if person is None or person.id is None:
        ctx.dialog.clear()
        await ctx.reply(_("We store nothing about you, so there is nothing to erase."))
        return
    voted_in = [
        r for r in await budgets.open_rounds(ctx.session, ctx.clock.now())
        if r.id is not None and await budgets.has_voted(ctx.session, r.id, person.id)
    ]  # fmt: skip
    if voted_in:
        # Erasing now would let this account vote again in the same round.
        ctx.dialog.clear()
        await ctx.reply(
            _(
                "You voted in “{title}”, which is open until {moment}. So that everyone votes "
                "only once, we can erase your data after that. Please ask again then."
            ).format(title=voted_in[0].title, moment=when(voted_in[0].closes_at or ctx.clock.now()))
        )
        return
    await audit.record(ctx.session, None, "person.erased", "person", None)
    await budgets.withdraw_unchecked_proposals(ctx.session, person.id)
    await people.erase_person(ctx.session, person.id)
    ctx.person = None
    ctx.dialog.clear()
    await ctx.edit(
        _("Your data has been erased. Your ideas and reports stay, without your name. Goodbye!")
    )
