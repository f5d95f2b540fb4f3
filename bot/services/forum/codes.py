"""Letter codes for a forum's pool, made and checked like budget voting codes (the same
format with a check symbol; only an HMAC is stored, under a key derived per forum from the
installation's secret key, so a copy of the database cannot be used to check guesses)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.core.secret_key import load_secret_key
from storage.forum_models import Forum, ForumCode
from storage.repo import budgets, forums


def code_key(settings: Settings, forum_id: int) -> bytes:
    return load_secret_key(settings).derive("forum-codes", str(forum_id).encode())


async def make_codes(
    session: AsyncSession, settings: Settings, forum: Forum, count: int
) -> list[str]:
    assert forum.id is not None
    key = code_key(settings, forum.id)
    made: dict[str, str] = {}
    while len(made) < count:
        code = budgets.new_code()
        made[budgets.hash_code(key, code.replace("-", ""))] = code
    await forums.add_codes(session, forum.id, list(made))
    return list(made.values())


async def find_code(
    session: AsyncSession, settings: Settings, open_forums: list[Forum], symbols: str
) -> tuple[Forum, ForumCode] | None:
    """The open forum this code belongs to, and its row (used or not)."""
    for forum in open_forums:
        assert forum.id is not None
        row = await forums.code(
            session, forum.id, budgets.hash_code(code_key(settings, forum.id), symbols)
        )
        if row is not None:
            return forum, row
    return None
