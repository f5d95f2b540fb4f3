"""Partners: local organisations that hear about new ideas and reports of their themes, and
answer "we can help" as the organisation (never by the person's own name).

The news is a scheduled batch: each partner hears once about what came after what they
were last told, through the outbox and its limits. A partner's answers are erased with the
person (their partner row goes with them), as the organisation spoke through that person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.callbacks import CallbackData
from bot.core.events import Button
from bot.core.i18n import N_, _, ngettext
from bot.delivery.notify import tell
from bot.services.ideas import idea_ref
from bot.services.signals.notices import CATEGORY_LABELS
from storage.db import Database
from storage.models import Idea, Partner, Person, Signal
from storage.repo import ideas, partners

REPORTS_PER_MESSAGE = 10  # more new reports at once: the rest is counted, not listed
SNIPPET = 120


class PartnerHelp(CallbackData, prefix="phelp", hint=N_("Type /ideeen to see the ideas again.")):
    """ "We can help with I-12" under the news about an idea: `phelp:help:{id}`."""

    verb: Literal["help"]
    idea: int

    @classmethod
    def button_data(cls, idea_id: int | None) -> str:
        assert idea_id is not None
        return cls("help", idea_id).pack()


def help_button(idea_id: int | None) -> Button:
    return Button(
        _("We can help with {ref}").format(ref=idea_ref(idea_id)), PartnerHelp.button_data(idea_id)
    )


def _idea_news(partner: Partner, idea: Idea) -> str:
    text = _("New idea in your neighbourhood for {organisation}: {ref} “{title}”").format(
        organisation=partner.organisation, ref=idea_ref(idea.id), title=idea.title
    )
    if idea.body:
        text += "\n" + idea.body[:SNIPPET]
    return text + "\n" + _("Can your organisation help? Press the button.")


def _report_news(partner: Partner, found: list[Signal]) -> str:
    lines = [_("New reports for {organisation}:").format(organisation=partner.organisation)]
    for sig in found[:REPORTS_PER_MESSAGE]:
        line = f"{sig.reference} · {_(CATEGORY_LABELS.get(sig.category, sig.category))}"
        line += f": {sig.text[:SNIPPET]}"
        if sig.address:
            line += f" ({sig.address})"
        lines.append(line)
    if len(found) > REPORTS_PER_MESSAGE:
        lines.append(_("… and {n} more.").format(n=len(found) - REPORTS_PER_MESSAGE))
    return "\n".join(lines)


async def tell_partners(session: AsyncSession) -> int:
    """Each partner hears about new ideas of their themes (one message each, with a "we can
    help" button) and new reports of their categories (together in one message)."""
    told = 0
    for partner in await partners.partners_in(session, None):
        person = await session.get(Person, partner.person_id)
        if person is None:
            continue
        new_ideas = [
            i for i in await partners.new_ideas_for(session, partner)
            if i.author_id != partner.person_id
        ]  # fmt: skip
        new_signals = await partners.new_signals_for(session, partner)
        for idea in new_ideas:
            told += await tell(
                session,
                person,
                lambda p=partner, i=idea: _idea_news(p, i),  # type: ignore[misc]
                lambda i=idea: [help_button(i.id)],  # type: ignore[misc]
            )
        if new_signals:
            told += await tell(session, person, lambda p=partner, s=new_signals: _report_news(p, s))  # type: ignore[misc]
        newest_idea, newest_signal = await partners.newest_ids(session)
        partner.told_idea_id = max(partner.told_idea_id, newest_idea)
        partner.told_signal_id = max(partner.told_signal_id, newest_signal)
        session.add(partner)
    return told


async def partner_news(db: Database) -> int:
    """The scheduled job around `tell_partners`."""
    async with db.transaction() as session:
        return await tell_partners(session)


@dataclass(frozen=True)
class Answer:
    outcome: Literal["told", "again", "not_partner", "gone"]
    organisation: str = ""
    ref: str = ""


async def we_can_help(session: AsyncSession, person_id: int | None, idea_id: int) -> Answer:
    """A partner answers "we can help" on an idea of their neighbourhood; the initiator hears
    it by the organisation's name. Anyone else (a forged button) is refused."""
    idea = await ideas.idea(session, idea_id)
    if idea is None or idea.id is None:
        return Answer("gone")
    ref = idea_ref(idea.id)
    partner = (
        await partners.partner_of(session, person_id, idea.neighbourhood_id)
        if person_id is not None
        else None
    )
    if partner is None or partner.id is None:
        return Answer("not_partner", ref=ref)
    if not await partners.respond(session, idea.id, partner.id):
        return Answer("again", partner.organisation, ref)
    author = await session.get(Person, idea.author_id) if idea.author_id is not None else None
    if author is not None:
        await tell(
            session,
            author,
            lambda: _("{organisation} wants to help with your idea {ref} “{title}”.").format(
                organisation=partner.organisation, ref=ref, title=idea.title
            ),
        )
    return Answer("told", partner.organisation, ref)


def helping_line(organisations: list[str]) -> str:
    """Under an idea: who wants to help, by organisation name."""
    return ngettext(
        "{organisations} wants to help", "{organisations} want to help", len(organisations)
    ).format(organisations=", ".join(organisations))
