"""The ports between the kernel and the platforms: the adapter protocol every platform
implements, and the narrow store the app hands an adapter (adapters never see the database)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.events import Button, ChatRef, Incoming, MessageRef, Reply

Feed = Callable[[Incoming], Awaitable[None]]


class Unreachable(Exception):
    """The chat cannot be reached any more (blocked, kicked, deleted)."""


class StoreUnavailable(Exception):
    """The database cannot be reached now (down, restarting, locked): nothing was stored or
    handled, and the same work should be tried again later."""


# An event as a platform handed it over: its key there (update_id, event_id), and the event.
Received = tuple[str, Incoming]


class Adapter(Protocol):
    platform: str
    capabilities: frozenset[str]  # "buttons", "edit", "native_polls", "location", "photos", "rooms"

    async def start(self, feed: Feed) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef: ...

    async def edit(self, ref: MessageRef, reply: Reply) -> None: ...

    def direct_link(self, payload: str) -> str | None:
        """A link that opens a direct chat with the bot and starts `payload`; None if none."""
        ...


class SharedInbound(Protocol):
    """A platform every worker may receive from at once (Telegram's webhook behind a load
    balancer), all handling one inbox together; optional."""

    def share(self) -> bool:
        """Receive in every worker from now on, if this mode allows it (False: one worker)."""
        ...

    async def lead(self) -> None:
        """What one worker does for all at the platform (the webhook, the menus)."""
        ...


def shared_inbound(adapter: object) -> SharedInbound | None:
    """The adapter as a `SharedInbound`, if it can receive in every worker now."""
    share = getattr(adapter, "share", None)
    if callable(share) and callable(getattr(adapter, "lead", None)) and share():
        return adapter  # type: ignore[return-value]
    return None


class GroupInvite(Protocol):
    """A way into a group chat for one account: (group chat id, account id) -> a link to
    open; `expires` (from the caller's clock) ends a link where links expire (Telegram)."""

    async def __call__(
        self, group_id: str, user_id: str, expires: datetime | None = None
    ) -> str | None: ...


class GroupInvites(Protocol):
    """A platform where the bot can let someone into a group chat it is in (optional)."""

    async def group_invite(
        self, group_id: str, user_id: str, expires: datetime | None = None
    ) -> str | None:
        """A link into the group `group_id` for the account `user_id`: on Telegram a new
        invite link for one person, on Matrix the bot invites them and gives the room's link.
        None when the bot may not (no right to invite there)."""
        ...


def group_invite_of(adapter: object) -> GroupInvite | None:
    """The adapter's `group_invite`, if it has one."""
    found = getattr(adapter, "group_invite", None)
    return found if callable(found) else None


class AdapterStore(Protocol):
    """The little an adapter keeps or reads in the database, each in its own transaction.

    Every method raises `StoreUnavailable` when the database cannot be reached.
    """

    async def accept(
        self, source: str, received: Sequence[Received], cursor: tuple[str, str] | None = None
    ) -> None:
        """Keep events in the inbox, each key once per source, with the sync position that
        follows them, in one transaction (bot/core/inbox.py)."""
        ...

    async def waiting(self, source: str, limit: int) -> list[Incoming]:
        """Events kept and not yet handled, oldest first; each carries its `inbox_id`."""
        ...

    async def heads(self, source: str, limit: int) -> list[Incoming]:
        """The oldest waiting event of each chat no other worker is handling, oldest first
        (several workers on PostgreSQL handle the inbox together)."""
        ...

    async def cursor(self, key: str, max_age: timedelta | None = None) -> str | None:
        """A stored sync position; None if there is none or it is older than `max_age`."""
        ...

    async def save_cursor(self, key: str, value: str) -> None: ...

    async def chat_moved(self, platform: str, old_id: str, new_id: str) -> None:
        """The same chat under a new id (a Telegram group became a supergroup)."""
        ...

    async def mark_unreachable(self, platform: str, chat_id: str) -> None: ...

    async def sent_buttons(self, platform: str, chat_id: str, sent_ref: str) -> list[Button]:
        """The buttons of a message the outbox sent there as `sent_ref` (none if unknown)."""
        ...

    async def locale_of(self, platform: str, account: str) -> str | None:
        """The language a person on this account chose, if we know them."""
        ...
