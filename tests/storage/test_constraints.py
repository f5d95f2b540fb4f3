"""The store on SQLite and PostgreSQL: constraints hold in the database itself."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.app import App
from storage.models import Account, Membership, ThemeFollow
from storage.repo import people, places


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(app: App) -> None:
    if not app.db.is_sqlite:
        pytest.skip("SQLite only")
    async with app.db.session() as s:
        assert (await s.exec(text("PRAGMA journal_mode"))).one()[0] == "wal"  # type: ignore[call-overload]
        assert (await s.exec(text("PRAGMA foreign_keys"))).one()[0] == 1  # type: ignore[call-overload]


async def test_one_account_per_platform_user(app: App) -> None:
    async with app.db.transaction() as s:
        await people.create_person(s, "fake", "anna", "nl")
    with pytest.raises(IntegrityError):
        async with app.db.transaction() as s:
            person = await people.create_person(s, "fake", "bob", "nl")
            s.add(Account(person_id=person.id or 0, platform="fake", platform_user_id="anna"))
            await s.flush()


async def test_follow_and_membership_unique(app: App) -> None:
    async with app.db.transaction() as s:
        person = await people.create_person(s, "fake", "anna", "nl")
        theme = (await places.themes_for(s, None))[0]
        assert await places.follow(s, person.id or 0, theme.id or 0)
        assert not await places.follow(s, person.id or 0, theme.id or 0)
    with pytest.raises(IntegrityError):
        async with app.db.transaction() as s:
            s.add(ThemeFollow(person_id=person.id or 0, theme_id=theme.id or 0))
            await s.flush()
    with pytest.raises(IntegrityError):
        async with app.db.transaction() as s:
            s.add(Membership(person_id=person.id or 0, neighbourhood_id=1))
            s.add(Membership(person_id=person.id or 0, neighbourhood_id=1))
            await s.flush()


async def test_home_neighbourhood_keeps_coordinator_roles(app: App) -> None:
    async with app.db.transaction() as s:
        person = await people.create_person(s, "fake", "anna", "nl")
        pid = person.id or 0
        assert await people.grant_coordinator(s, pid, 1)
        assert not await people.grant_coordinator(s, pid, 1)
        await people.set_home(s, pid, 2)
        await people.set_home(s, pid, 3)
    async with app.db.session() as s:
        assert await people.coordinated_neighbourhoods(s, pid) == [1]
        home = await people.home_neighbourhood(s, pid)
        assert home is not None and home.id == 3
        assert len(await people.memberships_of(s, pid)) == 2  # coordinator of 1, living in 3
