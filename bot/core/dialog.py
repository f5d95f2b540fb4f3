"""Multi-step dialog state, persisted per user per chat so a restart continues the dialog."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import Button, ChatRef, UserRef
from bot.core.states import State
from storage.models import ConversationState, utcnow

DIALOG_TTL = timedelta(days=7)
SAVED = "^saved"  # what the dialog saved on its way (a msgid), for a true "Stopped."
SWITCH = "^switch"  # the command waiting for "Stop?" to be answered (bot/core/interrupt.py)
TEXT_STEP = "^text"  # this step expects typed text: a typed number is text, not a button
SCREEN = "screen"  # sticky: when the remembered buttons were shown; a plain message after
STICKY = "~"  # prefix of dialog data keys kept by `stick`: they outlive the dialog until their end


async def purge_stale(session: AsyncSession, now: datetime) -> int:
    """Delete dialogs nobody touched within DIALOG_TTL; returns how many."""
    result = await session.exec(
        delete(ConversationState).where(col(ConversationState.updated_at) < now - DIALOG_TTL)
    )
    return int(result.rowcount or 0)


class Dialog:
    """The dialog of one user in one chat; saved by the dispatcher in the event's transaction."""

    def __init__(self, session: AsyncSession, chat: ChatRef, user: UserRef) -> None:
        self._session = session
        self._chat = chat
        self._user = user
        self._row: ConversationState | None = None
        self.state: str | None = None
        self.data: dict[str, Any] = {}
        self.choices: list[Button] = []
        self._dirty = False
        self._now: datetime | None = None
        # Drafts read from `data` (`Draft.of`), kept until `data` changes: a guarded step
        # validates its draft once. Every write to `data` goes through a method here (or is
        # followed by `update()`), which forgets them.
        self.parsed: dict[type, Any] = {}

    async def load(self, now: datetime | None = None) -> Dialog:
        """Load the dialog; one left alone for longer than DIALOG_TTL starts afresh.

        A half-written report is personal data of someone who may never come back, so it
        is not kept for ever (see also `purge_stale`).
        """
        self._now = now
        self._row = (
            await self._session.exec(
                select(ConversationState).where(
                    col(ConversationState.platform) == self._chat.platform,
                    col(ConversationState.chat_id) == self._chat.id,
                    col(ConversationState.user_id) == self._user.id,
                )
            )
        ).first()
        if self._row is not None and now is not None and self._row.updated_at < now - DIALOG_TTL:
            self.clear()
            self.choices = []
            return self
        if self._row is not None:
            self.state = self._row.state
            self.data = dict(self._row.data)
            self.parsed.clear()
            self.choices = [Button.from_row(c) for c in self._row.choices]
            self._drop_expired()
        return self

    @property
    def shown_at(self) -> datetime | None:
        """When the remembered buttons were shown; None when not known."""
        screen = self.sticky(SCREEN) or {}
        return datetime.fromisoformat(screen["shown"]) if screen.get("shown") else None

    @property
    def plain_at(self) -> datetime | None:
        """When a message of ours without buttons last came after the buttons on screen."""
        screen = self.sticky(SCREEN) or {}
        return datetime.fromisoformat(screen["plain"]) if screen.get("plain") else None

    def goto(self, state: State, **data: Any) -> None:
        """Move to `state`, merging `data` into what the dialog already holds."""
        self.state = state.name
        self.data.update(data)
        self._changed()

    def update(self, **data: Any) -> None:
        self.data.update(data)
        self._changed()

    def _changed(self) -> None:
        self.parsed.clear()
        self._dirty = True

    def note_saved(self, what: str) -> None:
        """This dialog has saved something already (`what`: a msgid, "Your neighbourhood is
        kept."): stopping it says so instead of "Nothing was saved"."""
        self.update(**{SAVED: what})

    @property
    def saved(self) -> str | None:
        what = self.data.get(SAVED)
        return what if isinstance(what, str) else None

    def clear(self) -> None:
        """End the dialog. Sticky values (`stick`) stay until they expire: a limit on
        guessing codes must outlive /stop."""
        self.state = None
        self.data = {k: v for k, v in self.data.items() if k.startswith(STICKY)}
        self._changed()

    def erase(self) -> None:
        """Forget everything, sticky values too."""
        self.state = None
        self.data = {}
        self.choices = []
        self._changed()

    def stick(self, key: str, value: Any, until: datetime) -> None:
        """Keep `value` across dialogs until `until`; then it is gone."""
        self.data[STICKY + key] = {"until": until.isoformat(), "value": value}
        self._changed()

    def sticky(self, key: str) -> Any:
        """A value kept with `stick`, or None once it has expired."""
        kept = self.data.get(STICKY + key)
        if not isinstance(kept, dict) or "until" not in kept:
            return None
        if self._now is not None and datetime.fromisoformat(kept["until"]) <= self._now:
            return None
        return kept.get("value")

    def _drop_expired(self) -> None:
        for key in [k for k in self.data if k.startswith(STICKY)]:
            if self.sticky(key[len(STICKY) :]) is None:
                del self.data[key]
                self._dirty = True

    def offer(self, buttons: list[Button], at: datetime) -> None:
        """Remember the buttons just shown, so a typed number or label can press them."""
        self.choices = list(buttons)
        self.stick(SCREEN, {"shown": at.isoformat()}, at + DIALOG_TTL)

    def keep_choices(self, buttons: list[Button]) -> None:
        """Keep only these of the remembered buttons (the others are spent)."""
        if buttons != self.choices:
            self.choices = list(buttons)
            self._dirty = True

    def said_plain(self, at: datetime, until: datetime) -> None:
        """A message without buttons was sent: the buttons above are no longer the newest."""
        screen = {k: v for k, v in (self.sticky(SCREEN) or {}).items() if k == "shown"}
        self.stick(SCREEN, {**screen, "plain": at.isoformat()}, until)

    def forget_screen(self) -> None:
        """No buttons are remembered, and none were scrolled up: keep nothing."""
        self.choices = []
        self.data.pop(STICKY + SCREEN, None)
        self._dirty = True

    async def save(self) -> None:
        if not self._dirty:
            return
        if self._row is not None:
            row_state = inspect(self._row)
            if row_state is not None and (row_state.deleted or row_state.was_deleted):
                self._row = None  # erased together with the person (/vergeetmij)
        empty = self.state is None and not self.choices and not self.data
        if self._row is None:
            if empty:
                return
            self._row = ConversationState(
                platform=self._chat.platform, chat_id=self._chat.id, user_id=self._user.id
            )
        elif empty:
            await self._session.delete(self._row)
            self._row = None
            return
        self._row.state = self.state
        self._row.data = dict(self.data)
        self._row.choices = [b.to_row() for b in self.choices]
        self._row.updated_at = self._now or utcnow()
        self._session.add(self._row)


async def set_dialog_for(
    session: AsyncSession,
    platform: str,
    chat_id: str,
    user_id: str,
    state: State,
    data: dict[str, Any],
    now: datetime,
    *,
    only_if_idle: bool = False,
) -> bool:
    """Put someone else's dialog in a state (a coordinator's question awaits their answer).

    With `only_if_idle`, a dialog they are in the middle of is left alone (False).
    """
    row = (
        await session.exec(
            select(ConversationState).where(
                col(ConversationState.platform) == platform,
                col(ConversationState.chat_id) == chat_id,
                col(ConversationState.user_id) == user_id,
            )
        )
    ).first()
    if row is None:
        row = ConversationState(platform=platform, chat_id=chat_id, user_id=user_id)
    elif only_if_idle and row.state is not None and row.updated_at >= now - DIALOG_TTL:
        return False
    row.state = state.name
    row.data = dict(data)
    row.choices = []
    row.updated_at = now
    session.add(row)
    return True
