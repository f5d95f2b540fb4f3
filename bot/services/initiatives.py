"""Initiatives: an idea with at least one accepted helper becomes an initiative with its own
group chat, then it is done ("what we did", maybe a photo) and supporters hear it happened.

The team is the idea's accepted offers. A group chat comes two ways: on Matrix the bot makes
the room and invites the team; on Telegram the initiator makes a group, adds the bot and
types `/koppel I-12`, and each helper gets a one-person invite link in their direct chat.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.callbacks import CallbackData
from bot.core.events import Button, NewRoom
from bot.core.i18n import N_, _, ngettext, use_locale
from bot.core.permissions import Actor
from bot.core.ports import GroupInvite
from bot.delivery.notify import tell
from bot.services.ideas import idea_ref
from storage.models import Idea, Initiative, Person, utcnow
from storage.repo import ideas, initiatives, outbox, people

LINK_VALID = timedelta(days=7)  # a one-person invite link into an initiative's group
EXPIRING_LINKS = {"telegram"}  # where such a link ends (a Matrix invite stays until used)
ROOM_KEY = "initiative:"  # NewRoom.key of an initiative's room: "initiative:<idea id>"


async def room_made(session: AsyncSession, key: str, platform: str, room_id: str) -> None:
    """The outbox made the room of an initiative: it becomes the initiative's group chat, so
    helpers accepted later are invited into it. Other rooms (introductions) need nothing."""
    if not key.startswith(ROOM_KEY) or not key[len(ROOM_KEY) :].isdigit():
        return
    found = await initiatives.of_idea(session, int(key[len(ROOM_KEY) :]))
    if found is None or found.chat_id is not None:
        return  # gone, or linked by hand meanwhile (/koppel): that choice stands
    if await initiatives.of_chat(session, platform, room_id) is not None:
        return
    found.platform, found.chat_id = platform, room_id
    session.add(found)


class InitiativeStep(CallbackData, prefix="ini", hint=N_("Type /mijnideeen to see your ideas.")):
    """Start an initiative, or mark it done, from /mijnideeen: `ini:start:{idea}`."""

    verb: Literal["start", "done"]
    idea: int


def may_lead(idea: Idea, actor: Actor) -> bool:
    """Only the idea's initiator starts, links and finishes its initiative."""
    return actor.person_id is not None and idea.author_id == actor.person_id


def status_text(initiative: Initiative | None, team: int) -> str:
    """“initiative, team of 3” or “done”; nothing for a plain idea."""
    if initiative is None:
        return ""
    if initiative.status == "done":
        return _("done")
    return ngettext("initiative, team of {n}", "initiative, team of {n}", team).format(n=team)


def step_button(idea: Idea, initiative: Initiative | None, team: int) -> Button | None:
    """For the initiator in /mijnideeen: the next step of this idea, if there is one."""
    assert idea.id is not None
    ref = idea_ref(idea.id)
    if initiative is None and team > 0:
        return Button(
            _("Start an initiative {ref}").format(ref=ref), InitiativeStep("start", idea.id).pack()
        )
    if initiative is not None and initiative.status != "done":
        return Button(_("Mark {ref} done").format(ref=ref), InitiativeStep("done", idea.id).pack())
    return None


async def make_room(session: AsyncSession, idea: Idea, initiator: Person) -> bool:
    """Matrix: a new room "I-12 <title>", topic the idea, with the initiator and every
    accepted helper on Matrix invited; the welcome is in each of their languages."""
    assert idea.id is not None and initiator.id is not None
    chat = await people.direct_chat_of(session, initiator.id)
    if chat is None or chat.platform != "matrix":
        return False
    invite: list[str] = []
    locales: list[str] = []
    for pid in [initiator.id, *await initiatives.team(session, idea.id)]:
        account = await initiatives.account_on(session, pid, "matrix")
        person = await session.get(Person, pid)
        if account is not None and account not in invite:
            invite.append(account)
        if person is not None and person.locale not in locales:
            locales.append(person.locale)
    welcome = []
    for locale in locales:
        with use_locale(locale):
            welcome.append(
                _("Welcome! This room is for the initiative {ref} “{title}”.").format(
                    ref=idea_ref(idea.id), title=idea.title
                )
                + " "
                + _(
                    "The initiator can type /koppel {ref} here: then helpers who join later are invited too."
                ).format(ref=idea_ref(idea.id))
            )
    room = NewRoom(
        f"{idea_ref(idea.id)} {idea.title}"[:200], idea.body or idea.title, tuple(invite),
        key=f"{ROOM_KEY}{idea.id}",
    )  # fmt: skip
    await outbox.enqueue(
        session, "matrix", chat.chat_id, "\n\n".join(welcome), extra={"room": room.to_row()}
    )
    return True


async def invite_helper(
    session: AsyncSession, group_invite: GroupInvite, initiative: Initiative, idea: Idea, pid: int,
    now: datetime,
) -> bool | None:  # fmt: skip
    """Let one helper into the initiative's group: a one-person link (Telegram) or an invite
    (Matrix), and a word in their direct chat. None when the bot may not invite there;
    False when the helper cannot be reached on that platform."""
    if initiative.platform is None or initiative.chat_id is None:
        return False
    helper = await session.get(Person, pid)
    account = await initiatives.account_on(session, pid, initiative.platform)
    if helper is None or account is None:
        return False
    expiring = initiative.platform in EXPIRING_LINKS
    link = await group_invite(initiative.chat_id, account, now + LINK_VALID if expiring else None)
    if link is None:
        return None
    days = LINK_VALID.days

    def render() -> str:
        return (
            _(
                "{ref} “{title}” is now an initiative with its own group chat. You are in the team!"
            ).format(ref=idea_ref(idea.id), title=idea.title)
            + " "
            + _("Join the group with this link: {link}").format(link=link)
            + (
                " "
                + ngettext("The link works {n} day.", "The link works {n} days.", days).format(
                    n=days
                )
                if expiring
                else ""
            )
        )

    return await tell(session, helper, render)


def _happened(idea: Idea, initiative: Initiative, helped: bool) -> str:
    first = (
        _("You helped with {ref} “{title}”: it happened!")
        if helped
        else _("You supported {ref} “{title}”: it happened!")
    )
    return (
        first.format(ref=idea_ref(idea.id), title=idea.title)
        + " "
        + _("What we did: {what}").format(what=initiative.done_text)
    )


async def tell_done(session: AsyncSession, idea: Idea, initiative: Initiative) -> int:
    """Supporters and helpers hear it happened, each in their own language, with the photo
    when there is one; the initiator is not told their own news."""
    assert idea.id is not None
    helpers = await initiatives.team(session, idea.id)
    seen = {idea.author_id}
    extra = (
        {"photo": {"platform": initiative.photo_platform, "file_id": initiative.photo_file_id}}
        if initiative.photo_file_id
        else {}
    )
    told_ids = []
    for pid in [*helpers, *await initiatives.supporters(session, idea.id)]:
        if pid not in seen:
            seen.add(pid)
            told_ids.append(pid)
    rows = []
    for person, chat in await people.direct_chats_of(session, told_ids):
        with use_locale(person.locale):
            text = _happened(idea, initiative, person.id in helpers)
        rows.append(
            outbox.new_row(chat.platform, chat.chat_id, "direct", text, [], extra, utcnow())
        )
    await outbox.enqueue_many(session, rows)  # one INSERT for all supporters and helpers
    told = len(rows)
    return told


async def my_lines(session: AsyncSession, person_id: int) -> list[str]:
    """For /mijngegevens: my initiatives and the teams I am in."""
    lines = []
    mine = await ideas.ideas_by(session, person_id)
    found = await initiatives.of_ideas(session, [i.id for i in mine if i.id is not None])
    sizes = await initiatives.team_sizes(session, list(found))
    for idea_id, ini in found.items():
        lines.append(
            _("Your initiative {ref}: {status}.").format(
                ref=idea_ref(idea_id), status=status_text(ini, sizes.get(idea_id, 0))
            )
        )
    for idea_id in await initiatives.in_teams(session, person_id):
        lines.append(_("You are in the team of {ref}.").format(ref=idea_ref(idea_id)))
    return lines
