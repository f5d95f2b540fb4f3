"""/mijngegevens: everything stored about me, grouped, in plain words.

Each kind of data has a line (a list shows its first few and how many more); the whole
is sent as one message, or a few when it is longer than a chat message may be.
`tests/privacy/test_everything.py` checks that every table referring to a person is here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.config import LANGUAGES
from bot.core.context import Ctx
from bot.core.dialog import DIALOG_TTL
from bot.core.i18n import _, day, ngettext, number, when
from bot.core.router import Router
from bot.delivery.scheduler import OUTBOX_KEEP
from bot.handlers.common import GUESS_WINDOW, wrong_codes
from bot.services.announcements import event_name
from bot.services.dialogue.conversations import vote_word
from bot.services.forum.features import feature_name, features_of, value_label
from bot.services.ideas import idea_ref
from bot.services.initiatives import my_lines as initiative_lines
from bot.services.introductions import shared_lines
from bot.services.offers import describe
from bot.util.pack import pack
from storage.forum_models import CONFIRMED, DECLINED, INVITED, Forum, ForumMember
from storage.models import Person
from storage.repo import (
    announcements,
    dialogue,
    forums,
    ideas,
    introductions,
    limits,
    missing,
    offers,
    partners,
    people,
    personal,
    places,
    polls,
    signals,
    theme_groups,
    web,
)

router = Router("privacy_my_data")

SHOWN = 10  # items of one kind listed; then "… and 12 more"
REFS_SHOWN = 30  # references on one line (I-1, I-4, …)
QUOTE = 80  # characters of something they wrote


def listed(lines: Sequence[str], shown: int = SHOWN) -> list[str]:
    more = len(lines) - shown
    if more <= 0:
        return list(lines)
    return [*lines[:shown], _("… and {n} more.").format(n=number(more))]


def refs(items: Sequence[str]) -> str:
    more = len(items) - REFS_SHOWN
    text = ", ".join(items[:REFS_SHOWN])
    return text + (" " + _("and {n} more").format(n=number(more)) if more > 0 else "")


def quote(text: str) -> str:
    return text if len(text) <= QUOTE else text[: QUOTE - 1].rstrip() + "…"


def section(title: str, lines: list[str]) -> str:
    """A heading over its lines, one bullet each; nothing when there are no lines."""
    return "\n".join([title, *("• " + line for line in lines)]) if lines else ""


def guesses_line(ctx: Ctx) -> str | None:
    guesses = len(wrong_codes(ctx))
    if not guesses:
        return None
    return ngettext(
        "You typed {n} unknown voting code in the last {minutes} minutes. We keep this for {minutes} minutes, to stop guessing.",
        "You typed {n} unknown voting codes in the last {minutes} minutes. We keep this for {minutes} minutes, to stop guessing.",
        guesses,
    ).format(n=guesses, minutes=int(GUESS_WINDOW.total_seconds() // 60))


@router.command("mijngegevens", "mydata", "privacy", while_busy="pause")
async def my_data(ctx: Ctx) -> None:
    person = ctx.person
    guesses = guesses_line(ctx)
    if person is None or person.id is None:
        if guesses:
            await ctx.reply(_("This is everything we store about you:") + "\n" + guesses)
            return
        await ctx.reply(_("We store nothing about you. You have not shared anything with us yet."))
        return
    votes = await polls.votes_of(ctx.session, person.id)
    if any(v.poll.named and v.shown_as for v in votes):
        end = _(
            "We store the name that was shown with your vote in a poll with names. "
            "We do not store your phone number."
        )
    else:
        end = _("We do not store your name or phone number.")
    blocks = [
        _("This is everything we store about you."),
        section(_("About you"), await about_you(ctx, person)),
        section(_("What you shared"), await what_you_shared(ctx, person.id)),
        section(_("Your votes"), await your_votes(ctx, person.id, votes)),
        section(_("As coordinator"), await as_coordinator(ctx, person.id)),
        section(_("Messages and conversations"), await conversations(ctx, person.id, guesses)),
        end + "\n" + _("Type /vergeetmij to erase your data."),
    ]
    for text in pack(b for b in blocks if b):
        await ctx.reply(text)


async def about_you(ctx: Ctx, person: Person) -> list[str]:
    assert person.id is not None
    s = ctx.session
    lines = [
        _("Language: {language}").format(language=LANGUAGES.get(person.locale, person.locale)),
        _("With us since: {date}").format(date=when(person.created_at)),
    ]
    for acc in await people.accounts_of(s, person.id):
        lines.append(
            _("Account: {platform} {id}").format(platform=acc.platform, id=acc.platform_user_id)
        )
    for chat in await personal.direct_chats(s, person.id):
        lines.append(_("A private chat with us on {platform}").format(platform=chat.platform))
    for m in await people.memberships_of(s, person.id):
        hood = await places.neighbourhood(s, m.neighbourhood_id)
        name = hood.name if hood else "?"
        if m.is_home and m.home_since is not None:
            lines.append(
                _("Your neighbourhood: {name} (since {date})").format(
                    name=name, date=when(m.home_since)
                )
            )
        elif m.is_home:
            lines.append(_("Your neighbourhood: {name}").format(name=name))
        if m.role == "coordinator":
            lines.append(_("Coordinator of: {name}").format(name=name))
    for p in await partners.partners_of_person(s, person.id):
        hood = await places.neighbourhood(s, p.neighbourhood_id)
        lines.append(
            _("You speak for {organisation} in {name}").format(
                organisation=p.organisation, name=hood.name if hood else "?"
            )
        )
    themes = [
        t.name_in(ctx.locale)
        for tid in sorted(await places.followed_theme_ids(s, person.id))
        if (t := await places.theme(s, tid)) is not None
    ]
    if themes:
        lines.append(_("You follow: {themes}").format(themes=refs(themes)))
    for group in await theme_groups.welcomes_of(s, person.id):
        theme = await places.theme(s, group.theme_id) if group.theme_id is not None else None
        lines.append(
            _(
                "You said I may welcome you by first name in the group chat of {theme} when you "
                "join it."
            ).format(theme=theme.name_in(ctx.locale) if theme is not None else "?")
        )
    lines += await forum_lines(ctx, person.id)
    if (shared := await missing.age_band(s, person.id)) is not None:
        lines.append(
            _("Your age group, shared to see who we miss: {band}").format(
                band=value_label(shared.age_band)
            )
        )
    pref = await personal.preference(s, person.id)
    if pref is not None:
        rhythm = {"daily": _("every day"), "weekly": _("every week"), "never": _("never")}
        news = (
            _("Polls and announcements by message: yes.")
            if pref.broadcasts
            else _("Polls and announcements by message: no.")
        )
        lines.append(
            _("Digest: {rhythm}.").format(rhythm=rhythm.get(pref.digest, pref.digest)) + " " + news
        )
    return lines


async def what_you_shared(ctx: Ctx, pid: int) -> list[str]:
    s = ctx.session
    lines = listed(
        [
            _("Your idea {ref}: {title}").format(ref=idea_ref(i.id), title=i.title)
            for i in await ideas.ideas_by(s, pid)
        ]
    )
    supported = sorted(await ideas.supported_by(s, pid))
    if supported:
        lines.append(
            _("Ideas you support: {refs}").format(refs=refs([idea_ref(i) for i in supported]))
        )
    offered = {
        "open": _("not answered yet"), "accepted": _("the initiator said yes"),
        "declined": _("the initiator said no"),
    }  # fmt: skip
    lines += listed(
        [
            _("Your offer to help with {ref}: {offer} ({answer})").format(
                ref=idea_ref(o.idea_id),
                offer=describe(o.kind, o.text),
                answer=offered.get(o.status, o.status),
            )
            for o in await offers.offers_by(s, pid)
        ]
    )
    lines += listed(shared_lines(await introductions.of_person(s, pid), pid))
    lines += listed(await initiative_lines(s, pid))
    reports = []
    for sig in await signals.signals_by(s, pid):
        line = _("Your report {ref}: {text}").format(ref=sig.reference, text=quote(sig.text))
        reports.append(line + (" " + _("(with your photo)") if sig.photo_file_id else ""))
    lines += listed(reports)
    answers = [
        _("Your answer about report {ref}: {text}").format(ref=sig.reference, text=quote(u.note))
        for u, sig in await personal.report_notes(s, pid)
        if u.kind == "answer"
    ]
    lines += listed(answers)
    lines += listed(
        [
            _("You follow report {ref}").format(ref=sig.reference)
            for sig in await signals.followed_by(s, pid)
        ]
    )
    lines += listed(
        [
            _("Your budget proposal {code} “{title}” in “{round}”").format(
                code=p.code, title=p.title, round=round_title
            )
            for p, round_title in await personal.proposals(s, pid)
        ]
    )
    helped = [f"{p.organisation}: {idea_ref(i)}" for p, i in await partners.responses_by(s, pid)]
    if helped:
        lines.append(_("Ideas your organisation can help with: {refs}").format(refs=refs(helped)))
    backed = [f"{p.code} “{p.title}”" for p in await personal.budget_supports(s, pid)]
    if backed:
        lines.append(_("Budget proposals you support: {projects}").format(projects=refs(backed)))
    events = [event_name(a) for a in await announcements.events_of(s, pid)]
    if events:
        lines.append(_("Events you said you would come to: {events}").format(events=refs(events)))
    return lines


async def your_votes(ctx: Ctx, pid: int, votes: list[polls.MyVote]) -> list[str]:
    lines = []
    for vote in votes:
        poll = vote.poll
        chosen = ", ".join(poll.options[i] for i in vote.options if 0 <= i < len(poll.options))
        line = _("Your vote on “{question}”: {choice}.").format(
            question=poll.question, choice=chosen
        )
        if poll.named and vote.shown_as:
            line += " " + _("Your name “{name}” is shown with it.").format(name=vote.shown_as)
        lines.append(line)
    lines = listed(lines)
    lines += listed(
        [
            _("You voted in “{title}”. Your choices are not linked to you.").format(title=r.title)
            for r in await personal.rounds_voted_in(ctx.session, pid)
        ]
    )
    lines += await in_conversations(ctx, pid)
    if counted := await limits.counted_for(ctx.session, pid):
        lines.append(
            ngettext(
                "The time of {n} vote change or proposal, for the hourly limits. We keep it for a day.",
                "The times of {n} vote changes and proposals, for the hourly limits. We keep them for a day.",
                counted,
            ).format(n=counted)
        )
    if held := await web.held_for(ctx.session, pid):
        lines.append(
            ngettext(
                "{n} login link or session for the web overview. Each ends within 12 hours.",
                "{n} login links and sessions for the web overview. Each ends within 12 hours.",
                held,
            ).format(n=held)
        )
    return lines


async def in_conversations(ctx: Ctx, pid: int) -> list[str]:
    """Statements they wrote and their votes on statements (never shown with a name)."""
    wrote = [
        _("Your statement in “{question}”: “{text}”").format(question=q, text=quote(st.text))
        for st, q in await dialogue.statements_by(ctx.session, pid)
    ]
    votes = [
        _("Your vote on the statement “{text}”: {vote}.").format(
            text=quote(text), vote=vote_word(value)
        )
        for text, value in await dialogue.all_votes_of(ctx.session, pid)
    ]
    lines = listed(wrote) + listed(votes)
    if votes:
        lines.append(_("Nobody sees your votes on statements with your name."))
    return lines


async def as_coordinator(ctx: Ctx, pid: int) -> list[str]:
    s = ctx.session
    lines = []
    if opened := await dialogue.opened_by(s, pid):
        lines.append(_("Conversations you opened: {n}").format(n=number(opened)))
    if forums_opened := await forums.opened_by(s, pid):
        lines.append(_("Neighbourhood forums you opened: {n}").format(n=number(forums_opened)))
    if made := await personal.polls_created(s, pid):
        lines.append(_("Polls you sent: {n}").format(n=number(len(made))))
    if news := await personal.announcements_created(s, pid):
        lines.append(_("Announcements you sent: {n}").format(n=number(news)))
    trail = await personal.audit_trail(s, pid)
    if trail.linked:
        hoods = [
            hood.name if (hood := await places.neighbourhood(s, h)) else "?" for h in trail.linked
        ]
        lines.append(
            _("Groups you linked: {n} (to {names})").format(n=number(len(hoods)), names=refs(hoods))
        )
    notes = [  # on reports of others (their own report's history is part of the report)
        u for u, sig in await personal.report_notes(s, pid)
        if u.kind != "answer" and sig.reporter_id != pid
    ]  # fmt: skip
    if notes:
        lines.append(
            _("Status changes and questions you wrote on reports: {n}").format(n=number(len(notes)))
        )
    if done := sum(trail.by_them.values()):
        lines.append(_("Your actions in the log of coordinators: {n}").format(n=number(done)))
    if trail.about_them:
        lines.append(
            _(
                "Entries about you in that log (for example, that you became coordinator): {n}"
            ).format(n=number(trail.about_them))
        )
    return lines


async def forum_lines(ctx: Ctx, pid: int) -> list[str]:
    """Their answers in a forum's pool (kept until the forum ends) and where they stand."""
    lines = []
    for row, forum in await forums.memberships(ctx.session, pid):
        if row.state == DECLINED:
            lines.append(
                _(
                    "You said no to the neighbourhood forum “{purpose}”, or did not answer in time. We keep no answers of yours for it."
                ).format(purpose=forum.purpose)
            )
            continue
        answers = ", ".join(
            f"{feature_name(f)} {value_label(str(row.answers[f]))}"
            for f in features_of(forum.quotas)
            if f in row.answers
        )
        lines.append(
            _(
                "You are in the pool of the neighbourhood forum “{purpose}” with these answers: "
                "{answers}. We erase them on {date}."
            ).format(purpose=forum.purpose, answers=answers, date=day(forum.ends_at))
            + " "
            + _standing(row, forum)
        )
    return lines


def _standing(row: ForumMember, forum: Forum) -> str:
    """Where a pool member stands: waiting for the draw, not drawn, invited, taking part."""
    if row.state == CONFIRMED:
        return _("You take part in the forum.")
    if row.state == INVITED and row.invited_at is not None:
        deadline = row.invited_at + timedelta(days=forum.confirm_days)
        return _("You were drawn: please answer the invitation before {deadline}.").format(
            deadline=when(deadline)
        )
    if forum.seed is None:
        return _("The draw is after {date}.").format(date=day(forum.pool_closes_at))
    return _("You were not drawn. If a seat becomes free, you may still be asked.")


async def conversations(ctx: Ctx, pid: int, guesses: str | None) -> list[str]:
    s = ctx.session
    lines = []
    sent = await personal.messages_to(s, await personal.direct_chats(s, pid))
    if sent.waiting:
        lines.append(_("Messages to you waiting to be sent: {n}").format(n=number(sent.waiting)))
    if sent.kept:
        lines.append(
            ngettext(
                "Messages sent to you, kept for {days} day: {n}",
                "Messages sent to you, kept for {days} days: {n}",
                OUTBOX_KEEP.days,
            ).format(days=OUTBOX_KEEP.days, n=number(sent.kept))
        )
    if chats := await personal.conversations(s, await people.accounts_of(s, pid)):
        lines.append(
            ngettext(
                "Where you are in a conversation with us, in {n} chat: for example a draft you have not sent yet, or the buttons we showed you last. We forget it after {days} days.",
                "Where you are in a conversation with us, in {n} chats: for example a draft you have not sent yet, or the buttons we showed you last. We forget it after {days} days.",
                chats,
            ).format(n=number(chats), days=DIALOG_TTL.days)
        )
    if guesses:
        lines.append(guesses)
    return lines
