"""The database behind `AdapterStore`: what adapters may keep, through the repositories.

Every method runs in a transaction of its own; when the database is away (`Database.is_away`)
the adapter gets `StoreUnavailable`, so it keeps what it has and tries again later.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import Button, Incoming, stored_keyboard
from bot.core.ports import Received, StoreUnavailable
from storage.db import Database
from storage.models import InboxEntry, utcnow
from storage.repo import channels, cursors, inbox, outbox, people

log = logging.getLogger(__name__)

# An inbox entry holds the neutral event as JSON: any process can handle it, none needs the
# platform's own objects.
_EVENT = TypeAdapter(Incoming)


class DatabaseAdapterStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        try:
            async with self.db.transaction() as session:
                yield session
        except Exception as exc:
            if await self.db.is_away(exc):
                raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc
            raise

    async def accept(
        self, source: str, received: Sequence[Received], cursor: tuple[str, str] | None = None
    ) -> None:
        rows = [
            (key, event.chat.id, _EVENT.dump_python(event, mode="json", exclude={"inbox_id"}))
            for key, event in received
        ]
        try:
            async with self._transaction() as session:
                await inbox.keep(session, source, rows, utcnow())
                if cursor is not None:
                    await cursors.put(session, *cursor)
        except StoreUnavailable:
            raise
        except Exception:  # the database refuses one of them: keep the others, then move on
            log.exception("inbox: could not keep %d events from %s together", len(rows), source)
            await self._accept_each(source, rows, cursor)

    async def _accept_each(
        self,
        source: str,
        rows: list[tuple[str, str, dict[str, Any]]],
        cursor: tuple[str, str] | None,
    ) -> None:
        for row in rows:
            try:
                async with self._transaction() as session:
                    await inbox.keep(session, source, [row], utcnow())
            except StoreUnavailable:
                raise
            except Exception:
                log.exception("inbox: %s %s could not be kept; it is skipped", source, row[0])
        if cursor is not None:
            await self.save_cursor(*cursor)

    async def waiting(self, source: str, limit: int) -> list[Incoming]:
        async with self._transaction() as session:
            entries = await inbox.waiting(session, source, limit)
        return await self._events(entries)

    async def heads(self, source: str, limit: int) -> list[Incoming]:
        async with self._transaction() as session:
            entries = await inbox.heads(session, source, limit)
        return await self._events(entries)

    async def _events(self, entries: Sequence[InboxEntry]) -> list[Incoming]:
        events = []
        for entry in entries:
            assert entry.id is not None
            try:
                events.append(replace(_EVENT.validate_python(entry.event), inbox_id=entry.id))
            except ValidationError:  # kept by a version that wrote events differently
                log.exception("inbox: entry %s cannot be read; it is skipped", entry.id)
                async with self._transaction() as session:
                    await inbox.claim(session, entry.id, utcnow())
        return events

    async def cursor(self, key: str, max_age: timedelta | None = None) -> str | None:
        # The row clock is the app's clock (a test's, or the system's).
        newer_than = utcnow() - max_age if max_age is not None else None
        async with self._transaction() as session:
            return await cursors.get(session, key, newer_than=newer_than)

    async def save_cursor(self, key: str, value: str) -> None:
        async with self._transaction() as session:
            await cursors.put(session, key, value)

    async def chat_moved(self, platform: str, old_id: str, new_id: str) -> None:
        async with self._transaction() as session:
            await channels.move_chat(session, platform, old_id, new_id)

    async def mark_unreachable(self, platform: str, chat_id: str) -> None:
        async with self._transaction() as session:
            await channels.mark_reachable(session, platform, chat_id, False)

    async def sent_buttons(self, platform: str, chat_id: str, sent_ref: str) -> list[Button]:
        async with self._transaction() as session:
            rows = await outbox.sent_buttons(session, platform, chat_id, sent_ref)
        return [b for row in stored_keyboard(rows or []) for b in row]

    async def locale_of(self, platform: str, account: str) -> str | None:
        async with self._transaction() as session:
            person = await people.person_for_account(session, platform, account)
        return person.locale if person is not None else None
