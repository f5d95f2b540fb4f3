"""Offers of help on ideas ("I'll help"): the buttons, who may press them, and the news.

The initiator hears about new offers in a batch (like support news), with the offer's kind
and words but never the helper's name or handle: introductions need both sides' consent and
come later. The helper hears the initiator's answer in their own language.
"""

from __future__ import annotations

from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.callbacks import CallbackData
from bot.core.events import Button
from bot.core.i18n import N_, _
from bot.core.permissions import Actor
from bot.delivery.notify import tell
from bot.services.ideas import idea_ref
from storage.db import Database
from storage.models import Idea, IdeaOffer, Person
from storage.repo import offers

KINDS = ("time", "skill", "materials", "place")  # and "other": only words


class OfferHelp(CallbackData, prefix="oh", hint=N_("Type /ideeen to see the ideas again.")):
    """The "I'll help I-12" button under an idea: `oh:{idea}`."""

    idea: int

    @classmethod
    def button_data(cls, idea_id: int | None) -> str:
        assert idea_id is not None
        return cls(idea_id).pack()


class AnswerOffer(CallbackData, prefix="oa", hint=N_("Type /mijnideeen to see your ideas.")):
    """Accept or Decline under an offer, for the initiator: `oa:accept:{offer}`."""

    verb: Literal["accept", "decline"]
    offer: int


def help_button(idea_id: int | None) -> Button:
    return Button(
        _("I'll help {ref}").format(ref=idea_ref(idea_id)), OfferHelp.button_data(idea_id)
    )


def kind_label(kind: str) -> str:
    labels = {"time": _("time"), "skill": _("a skill"), "materials": _("materials"),
              "place": _("a place")}  # fmt: skip
    return labels.get(kind, "")


def describe(kind: str, text: str) -> str:
    """“time, “I can on Saturday”” — the kind, the words, or both."""
    words = f"“{text}”" if text else ""
    return ", ".join(part for part in (kind_label(kind), words) if part)


def status_label(status: str) -> str:
    labels = {"open": _("waiting for your answer"), "accepted": _("accepted"),
              "declined": _("declined")}  # fmt: skip
    return labels.get(status, status)


def may_offer(idea: Idea, actor: Actor) -> bool:
    """Anyone we know may offer help, except on their own idea."""
    return actor.person_id is not None and idea.author_id != actor.person_id


def may_answer(idea: Idea, actor: Actor) -> bool:
    """Only the idea's initiator answers its offers."""
    return actor.person_id is not None and idea.author_id == actor.person_id


def answer_buttons(offer: IdeaOffer, n: int) -> list[Button]:
    assert offer.id is not None
    return [
        Button(_("Accept {n}").format(n=n), AnswerOffer("accept", offer.id).pack()),
        Button(_("Decline {n}").format(n=n), AnswerOffer("decline", offer.id).pack()),
    ]


async def tell_authors_about_offers(session: AsyncSession) -> int:
    """The scheduled batch: each initiator hears once about new offers, with buttons."""
    told = 0
    for news in await offers.take_offer_news(session):
        author = await session.get(Person, news.idea.author_id)
        if author is None:
            continue

        def render(n: offers.OfferNews = news) -> str:
            lines = [
                _("News about your idea {ref} “{title}”:").format(
                    ref=idea_ref(n.idea.id), title=n.idea.title
                )
            ]
            for i, o in enumerate(n.offers, 1):
                lines.append(
                    f"{i}. "
                    + _("Someone wants to help: {offer}").format(offer=describe(o.kind, o.text))
                )
            lines.append(
                _("You can accept or decline each offer. Type /mijnideeen to see them all.")
            )
            return "\n".join(lines)

        def buttons(n: offers.OfferNews = news) -> list[Button]:
            return [b for i, o in enumerate(n.offers, 1) for b in answer_buttons(o, i)]

        told += await tell(session, author, render, buttons)
    return told


async def offer_batch(db: Database) -> int:
    """The scheduled job around `tell_authors_about_offers`."""
    async with db.transaction() as session:
        return await tell_authors_about_offers(session)


async def tell_helper(session: AsyncSession, offer: IdeaOffer, idea: Idea) -> bool:
    """The initiator's answer, to the helper in their own language."""
    helper = await session.get(Person, offer.person_id)
    if helper is None:
        return False
    ref = idea_ref(idea.id)

    def render() -> str:
        if offer.status == "accepted":
            return _("The initiator said yes to your offer for {ref} “{title}”.").format(
                ref=ref, title=idea.title
            )
        return _(
            "The initiator of {ref} “{title}” said no to your offer this time. Thank you for offering!"
        ).format(ref=ref, title=idea.title)

    return await tell(session, helper, render)
