"""Tell somebody else something later, in their own language, through the outbox."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import Button, store_keyboard
from bot.core.i18n import use_locale
from storage.models import Person
from storage.repo import outbox, people


async def tell(
    session: AsyncSession,
    person: Person,
    render: Callable[[], str],
    buttons: Callable[[], list[Button]] | None = None,
) -> bool:
    """Queue a message to the person's direct chat; False if we have no way to reach them."""
    assert person.id is not None
    chat = await people.direct_chat_of(session, person.id)
    if chat is None:
        return False
    with use_locale(person.locale):
        text = render()
        rows = store_keyboard([[b] for b in (buttons() if buttons else [])])
    await outbox.enqueue(session, chat.platform, chat.chat_id, text, rows)
    return True
