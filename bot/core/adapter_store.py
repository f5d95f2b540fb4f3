"""The database behind `AdapterStore`: what adapters may keep, through the repositories."""

from __future__ import annotations

from datetime import timedelta

from bot.core.events import Button, stored_keyboard
from storage.db import Database
from storage.models import utcnow
from storage.repo import channels, cursors, outbox, people


class DatabaseAdapterStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def cursor(self, key: str, max_age: timedelta | None = None) -> str | None:
        # The row clock is the app's clock (a test's, or the system's).
        newer_than = utcnow() - max_age if max_age is not None else None
        async with self.db.transaction() as session:
            return await cursors.get(session, key, newer_than=newer_than)

    async def save_cursor(self, key: str, value: str) -> None:
        async with self.db.transaction() as session:
            await cursors.put(session, key, value)

    async def chat_moved(self, platform: str, old_id: str, new_id: str) -> None:
        async with self.db.transaction() as session:
            await channels.move_chat(session, platform, old_id, new_id)

    async def mark_unreachable(self, platform: str, chat_id: str) -> None:
        async with self.db.transaction() as session:
            await channels.mark_reachable(session, platform, chat_id, False)

    async def sent_buttons(self, platform: str, chat_id: str, sent_ref: str) -> list[Button]:
        async with self.db.transaction() as session:
            rows = await outbox.sent_buttons(session, platform, chat_id, sent_ref)
        return [b for row in stored_keyboard(rows or []) for b in row]

    async def locale_of(self, platform: str, account: str) -> str | None:
        async with self.db.transaction() as session:
            person = await people.person_for_account(session, platform, account)
        return person.locale if person is not None else None
