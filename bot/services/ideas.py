"""Ideas beyond the chat that made them: their public reference, and support news to authors."""

from __future__ import annotations

from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.callbacks import CallbackData
from bot.core.i18n import N_, ngettext
from bot.delivery.notify import tell
from storage.db import Database
from storage.models import Person
from storage.repo import ideas


class SupportIdea(CallbackData, prefix="idea", hint=N_("Type /ideeen to see the ideas again.")):
    """The "Support I-12" button under an idea: `idea:support:{id}`."""

    verb: Literal["support"]
    idea: int

    @classmethod
    def button_data(cls, idea_id: int | None) -> str:
        assert idea_id is not None
        return cls("support", idea_id).pack()


def idea_ref(idea_id: int | None) -> str:
    return f"I-{idea_id}"


async def tell_authors_about_support(session: AsyncSession) -> int:
    """The scheduled batch: each author hears once about new supports, not per click."""
    told = 0
    for news in await ideas.take_support_news(session):
        author = await session.get(Person, news.idea.author_id)
        if author is None:
            continue

        def render(n: ideas.SupportNews = news) -> str:
            first = ngettext(
                "Good news: your idea {ref} “{title}” got {new} new supporter.",
                "Good news: your idea {ref} “{title}” got {new} new supporters.",
                n.new,
            ).format(ref=idea_ref(n.idea.id), title=n.idea.title, new=n.new)
            total = ngettext(
                "It now has {n} supporter in total.", "It now has {n} supporters in total.", n.total
            ).format(n=n.total)
            return f"{first} {total}"

        told += await tell(session, author, render)
    return told


async def support_batch(db: Database) -> int:
    """The scheduled job around `tell_authors_about_support`."""
    async with db.transaction() as session:
        return await tell_authors_about_support(session)
