"""One event's unit of work: its transaction, what it queued, and the one early commit.

The dispatcher owns the transaction (one event, one transaction, replies after the commit).
Two things cross that line, and both are named here instead of being reached for:
- whether the event queued messages in the outbox (so the sender is woken after the commit);
  the outbox repository marks its session when it writes;
- `commit_now()`, for the one handler that must finish its transaction before the end: a
  secret ballot is cast in a transaction of its own, after the dialog that held the basket is
  erased *and committed*, so no row ever holds the voter next to their choices.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.dialog import Dialog
from storage.repo import inbox
from storage.repo.outbox import WROTE_OUTBOX


@dataclass
class UnitOfWork:
    session: AsyncSession
    dialog: Dialog
    committed_early: bool = False  # `commit_now` was called
    inbox_id: int | None = None  # the inbox entry this event came from

    def queued_messages(self) -> bool:
        """Whether this event wrote to the outbox (read once, after the commit)."""
        return bool(self.session.info.pop(WROTE_OUTBOX, False))

    async def commit_now(self) -> AsyncEngine:
        """Save the dialog and commit everything so far; the engine for a transaction of its own.

        After this the event's own transaction starts afresh; what the handler does next is
        committed by the dispatcher as usual.
        """
        await self.dialog.save()
        await self.session.commit()
        self.committed_early = True
        if self.inbox_id is not None:  # the commit let go of the chat: hold it again
            await inbox.hold_chat(self.session, self.inbox_id)
        engine = self.session.bind
        assert isinstance(engine, AsyncEngine)
        return engine
