"""Ideas beyond the chat that made them: their public reference, and support news to authors."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.i18n import ngettext
from bot.delivery.notify import tell
from storage.db import Database
from storage.models import Person
from storage.repo import ideas


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
