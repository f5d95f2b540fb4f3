"""The streaming run writes exactly the digests the old, all-in-memory run built.

A few hundred residents with everything that makes a digest personal (their own ideas,
reports, followed reports, votes, offers of help, supported initiatives, changes they made
themselves, two chats, several neighbourhoods, no themes, right-to-left) are served by
`queue_digests` and by the old path kept in `tests/digests/reference.py`; the outbox must
hold the same text and buttons for the same chats, in the same order.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, update
from sqlmodel import col, select

from bench.digest.bench_digest import NOW, add_items, add_places, add_residents
from bot.core.clock import FrozenClock
from bot.services.digests import queue_digests, run, send_digests
from storage.db import Database
from storage.models import (
    Channel,
    Idea,
    Membership,
    OutboxMessage,
    Person,
    Preference,
    Signal,
    SignalUpdate,
    Theme,
    ThemeFollow,
)
from storage.network_models import IdeaOffer, Initiative
from storage.repo import digest_residents
from tests.digests.reference import reference_messages

RESIDENTS = 300
ALIKE = range(303, 310)  # same places, themes, language and setting; all but 304, 307 involved


async def _alike_but_involved(db: Database) -> None:
    """Residents the run would give one shared digest, but for one thing each: 303 offered
    help, 305 wrote an older idea that still needs helpers, 306 changed a report's status,
    308 wrote a new idea, 309 made a report."""
    await add_residents(db, 301, 9)  # 301-302 daily or never; 303-309 weekly
    async with db.transaction() as s:
        await s.exec(insert(Theme), params=[  # type: ignore[call-overload]
            {"id": 7, "slug": "thema-7", "names": {"nl": "Thema 7", "en": "Theme 7"},
             "created_at": NOW}
        ])  # fmt: skip
        await s.exec(delete(ThemeFollow).where(col(ThemeFollow.person_id).in_(ALIKE)))  # type: ignore[call-overload]
        await s.exec(insert(ThemeFollow), params=[  # type: ignore[call-overload]
            {"person_id": p, "theme_id": t, "created_at": NOW} for p in ALIKE for t in (7,)
        ])  # fmt: skip
        await s.exec(update(Membership).where(col(Membership.person_id).in_(ALIKE))  # type: ignore[call-overload]
                     .values(neighbourhood_id=1))  # fmt: skip
        await s.exec(update(Person).where(col(Person.id).in_(ALIKE)).values(locale="nl"))  # type: ignore[call-overload]
        new = Idea(neighbourhood_id=1, theme_id=7, author_id=1, title="Nieuw idee", body="",
                   status="open", created_at=NOW - timedelta(hours=1))  # fmt: skip
        s.add(new)
        s.add(Idea(neighbourhood_id=1, theme_id=7, author_id=305, title="Oud idee", body="",
                   status="open", created_at=NOW - timedelta(days=20)))  # fmt: skip
        s.add(Idea(neighbourhood_id=1, author_id=308, title="Mijn idee", body="",
                   status="open", created_at=NOW - timedelta(hours=2)))  # fmt: skip
        await s.flush()
        s.add(IdeaOffer(idea_id=new.id, person_id=303, kind="time",
                        created_at=NOW - timedelta(minutes=5)))  # fmt: skip
        signal = (await s.exec(select(Signal.id).where(col(Signal.neighbourhood_id) == 1)
                               .order_by(col(Signal.id)))).first()  # fmt: skip
        await s.exec(update(SignalUpdate).where(col(SignalUpdate.signal_id) == signal)  # type: ignore[call-overload]
                     .values(by_person_id=306))  # fmt: skip
        await s.exec(update(Signal).where(col(Signal.id) == signal + 7)  # type: ignore[call-overload]
                     .values(reporter_id=309))  # fmt: skip


async def _personal_touches(db: Database) -> None:
    rnd = random.Random(7)
    async with db.transaction() as s:
        ideas = (await s.exec(select(Idea.id).where(col(Idea.theme_id).is_not(None)))).all()
        pairs = {(rnd.choice(ideas), rnd.randint(1, RESIDENTS)) for _ in range(80)}
        await s.exec(insert(IdeaOffer), params=[  # type: ignore[call-overload]
            {"idea_id": i, "person_id": p, "kind": "time", "status":
             "accepted" if n % 4 == 0 else "open", "created_at": NOW - timedelta(hours=n + 1)}
            for n, (i, p) in enumerate(sorted(pairs))
        ])  # fmt: skip
        await s.exec(insert(Initiative), params=[  # type: ignore[call-overload]
            {"idea_id": i, "status": "done" if n % 2 else "started", "done_text": "Geplant",
             "created_at": NOW - timedelta(days=2, hours=n),
             "done_at": NOW - timedelta(hours=n + 1) if n % 2 else None}
            for n, i in enumerate(ideas[:12])
        ])  # fmt: skip
        for n in range(1, 40, 3):  # some status changes made by residents themselves
            await s.exec(update(SignalUpdate).where(col(SignalUpdate.id) == n)  # type: ignore[call-overload]
                         .values(by_person_id=n % RESIDENTS + 1))  # fmt: skip
        await s.exec(delete(Membership).where(col(Membership.person_id).in_([3, 6])))  # type: ignore[call-overload]
        await s.exec(delete(ThemeFollow).where(col(ThemeFollow.person_id).in_([5, 10, 15])))  # type: ignore[call-overload]
        await s.exec(insert(Membership), params=[  # type: ignore[call-overload]
            {"person_id": p, "neighbourhood_id": 1 + (p + 3) % 7, "role": "resident",
             "is_home": False, "created_at": NOW}
            for p in range(20, 31)
        ])  # fmt: skip
        await s.exec(insert(Channel), params=[  # type: ignore[call-overload]
            {"platform": "matrix", "chat_id": f"!room{p}", "kind": "direct", "person_id": p,
             "reachable": p <= 10, "created_at": NOW}
            for p in range(1, 16)
        ])  # fmt: skip
        await s.exec(insert(Preference), params=[  # type: ignore[call-overload]
            {"person_id": p, "digest": "weekly", "broadcasts": False,
             "last_digest_at": NOW - timedelta(days=8 + p % 3)}
            for p in range(33, 60) if p % 10 >= 3
        ])  # poll results come in the digest  # fmt: skip
        await s.exec(update(Idea).where(col(Idea.id).in_([1, 2, 3]))  # type: ignore[call-overload]
                     .values(title='Bankjes "oud" \\ nieuw\t🌳 مرحبا \u200f{x}%s'))  # fmt: skip
        await s.exec(update(Person).where(col(Person.id).in_([7, 14, 21]))  # type: ignore[call-overload]
                     .values(locale="ar"))  # fmt: skip


async def _written(db: Database, cadence: str, **kw: Any) -> tuple[list[Any], list[Any]]:
    """(what the old path builds, what the run writes), the run rolled back afterwards."""
    async with db.session() as s:
        expected = await reference_messages(s, NOW, cadence, group_locale="nl")
        assert await queue_digests(s, NOW, cadence, group_locale="nl", **kw) == len(expected)
        rows = (await s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        written = [(m.platform, m.chat_id, m.chat_kind, m.text, m.buttons) for m in rows]
        await s.rollback()
    return [list(m) for m in expected], [list(m) for m in written]


@pytest.mark.parametrize(("chunk", "shared"), [(7, 2000), (1000, 2000), (1000, 0)])
async def test_the_same_digests_as_the_old_run(
    db_url: str, chunk: int, shared: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "SHARED", shared)  # 0: every digest made one by one
    monkeypatch.setattr(digest_residents, "CHUNK", chunk)
    monkeypatch.setattr(digest_residents, "FETCH", max(3, chunk // 2))
    db = Database(db_url)
    try:
        await add_places(db)
        await add_residents(db, 1, RESIDENTS)
        await add_items(db, RESIDENTS, 400)
        await _personal_touches(db)
        await _alike_but_involved(db)
        for cadence in ("weekly", "daily"):
            expected, written = await _written(db, cadence)
            assert len(written) > 20
            assert {m[2] for m in written} == ({"direct", "group"} if cadence == "weekly"
                                               else {"direct"})  # fmt: skip
            assert written == expected
            alike = {m[1]: m[3] for m in written if m[1] in {str(100_000 + p) for p in ALIKE}}
            if cadence == "weekly":
                assert len(alike) == 7 and len(set(alike.values())) == 6  # 304, 307 alike
            if cadence == "weekly":  # what makes a digest personal is in there
                for line in (
                    "You supported",
                    "want to help",
                    "News about your reports:",
                    "Polls that close soon:",
                    "Poll results:",
                    "is now an initiative",
                    'Bankjes "oud" \\ nieuw 🌳 مرحبا',
                ):
                    assert any(line in m[3] for m in written), line
    finally:
        await db.dispose()


async def test_two_runs_at_once_send_each_digest_once(db_url: str) -> None:
    """Two processes firing the same period together (the claim is read, then stamped):
    between them every resident gets their digest once."""
    db = Database(db_url)
    try:
        await add_places(db)
        await add_residents(db, 1, 120)
        await add_items(db, 120, 200)
        async with db.transaction() as s:  # half the weekly residents chose once: a row
            await s.exec(insert(Preference), params=[  # type: ignore[call-overload]
                {"person_id": p, "digest": "weekly", "broadcasts": True,
                 "last_digest_at": NOW - timedelta(days=8)}
                for p in range(1, 121) if p % 10 >= 3 and p % 2
            ])  # fmt: skip
        async with db.session() as s:
            expected = await reference_messages(s, NOW, "weekly", group_locale="nl")
        clock = FrozenClock(NOW)
        sent = await asyncio.gather(
            send_digests(db, clock, "weekly", group_locale="nl"),
            send_digests(db, clock, "weekly", group_locale="nl"),
        )
        async with db.session() as s:
            chats = (await s.exec(select(OutboxMessage.chat_id))).all()
    finally:
        await db.dispose()
    assert sum(sent) == len(chats) == len(set(chats)) == len(expected) > 50
    assert sorted(chats) == sorted(m[1] for m in expected)
