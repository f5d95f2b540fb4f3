"""One message to many: the groups and residents of a target, each row in the outbox first.

Polls, announcements, results and reminders all go this way. A text is rendered once per
language (groups get the platform's default language); rows are written in bulk, in the
transaction of the change they announce, so a crash cannot lose or half-send a broadcast.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import Button, store_keyboard
from bot.core.i18n import ngettext, number, use_locale
from storage.models import Media, utcnow
from storage.repo import audience, outbox

Render = Callable[[], str]
RenderButtons = Callable[[], list[list[Button]]]


@dataclass(frozen=True)
class Target:
    neighbourhood_id: int
    theme_id: int | None = None


@dataclass(frozen=True)
class Reach:
    groups: int
    residents: int


def residents_text(n: int) -> str:
    """ "1 resident", "3 residents": for saying who a message went to."""
    return ngettext("{n} resident", "{n} residents", n).format(n=number(n))


def groups_text(n: int) -> str:
    """ "1 group chat", "2 group chats"."""
    return ngettext("{n} group chat", "{n} group chats", n).format(n=number(n))


async def store_image(session: AsyncSession, png: bytes) -> int:
    """Keep an image once; outbox rows refer to it by id (`extra={"media_id": id}`)."""
    media = Media(data=png)
    session.add(media)
    await session.flush()
    assert media.id is not None
    return media.id


async def broadcast(
    session: AsyncSession,
    target: Target,
    render: Render,
    buttons: RenderButtons | None = None,
    extra: dict[str, Any] | None = None,
    *,
    per_chat: Mapping[tuple[str, str], dict[str, Any]] | None = None,
    per_locale: Mapping[str, dict[str, Any]] | None = None,
    group_locale: str = "nl",
    to_groups: bool = True,
    to_residents: bool = True,
    skip_people: Collection[int] = (),
) -> Reach:
    """Queue `render()` (with buttons and extra) for every group and resident of `target`.

    `per_chat`: more extra for some chats, by (platform, chat id); `per_locale`: more extra
    by the language the text is rendered in (a chart with words); `skip_people`: residents who
    get a message of their own instead.
    """
    rendered: dict[str, tuple[str, list[list[dict[str, str]]]]] = {}

    def in_locale(locale: str) -> tuple[str, list[list[dict[str, str]]]]:
        if locale not in rendered:
            with use_locale(locale):
                rendered[locale] = (render(), store_keyboard(buttons()) if buttons else [])
        return rendered[locale]

    def extra_for(platform: str, chat_id: str, locale: str) -> dict[str, Any] | None:
        more = {
            **((per_locale or {}).get(locale) or {}),
            **((per_chat or {}).get((platform, chat_id)) or {}),
        }
        return {**(extra or {}), **more} if more else extra

    now = utcnow()
    rows: list[dict[str, Any]] = []
    groups = residents = 0
    if to_groups:
        for chat in await audience.groups_of(session, target.neighbourhood_id, target.theme_id):
            text, kb = in_locale(group_locale)
            more = extra_for(chat.platform, chat.chat_id, group_locale)
            rows.append(outbox.new_row(chat.platform, chat.chat_id, "group", text, kb, more, now))
            groups += 1
    if to_residents:
        for person, chat in await audience.residents_of(
            session, target.neighbourhood_id, target.theme_id
        ):
            if person.id in skip_people:
                continue
            text, kb = in_locale(person.locale)
            more = extra_for(chat.platform, chat.chat_id, person.locale)
            rows.append(outbox.new_row(chat.platform, chat.chat_id, "direct", text, kb, more, now))
            residents += 1
    await outbox.enqueue_many(session, rows)
    return Reach(groups, residents)
