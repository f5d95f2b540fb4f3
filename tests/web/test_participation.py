"""`/participation`: people who took part per neighbourhood and month (the app's clock, Dutch
months), fewer than ten never shown exactly, "who is missing" by age group as /wiemister,
only the coordinator's neighbourhoods, and a fixed number of SQL statements however many
residents or neighbourhoods there are."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx

from bench.digest.bench_digest import count_queries
from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from bot.ops.population import load_population
from storage.dialogue_models import Conversation, Statement, StatementVote
from storage.forum_models import Population
from storage.models import (
    BudgetRound,
    Idea,
    IdeaSupport,
    Poll,
    PollVote,
    VoterRoll,
)
from tests.forum.test_population import DATA
from tests.support.fake import MakeChat
from tests.web.conftest import coordinator, link_in, log_in
from tests.web.data import people, reports

SCHALKWIJK, DELFTWIJK = 1, 2


def row(page: str, label: str) -> list[str]:
    """The cells of the table row headed ``label`` in the first chart of the page."""
    found = re.search(rf'<tr><th scope="row">{re.escape(label)}</th>(.*?)</tr>', page, re.S)
    assert found is not None, label
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", found[1])]


async def signed_in(app: App, make_chat: MakeChat, web: httpx.AsyncClient) -> None:
    coco = await coordinator(app, make_chat)  # of Schalkwijk
    await log_in(web, link_in(await coco.say("/dashboard")))


async def test_not_logged_in_sees_no_figures(app: App, web: httpx.AsyncClient) -> None:
    await reports(app.db, await people(app.db, 12, SCHALKWIJK), SCHALKWIJK,
                  app.dispatcher.clock.now())  # fmt: skip
    for path in ("/participation", "/downloads"):
        page = await web.get(path)
        assert page.status_code == 401 and "typ /dashboard" in page.text
        assert "Schalkwijk" not in page.text
    web.cookies.set("wijkbot_session", "x" * 43)
    assert (await web.get("/participation")).status_code == 401  # a made-up session


async def test_another_neighbourhoods_figures_are_never_in_the_page(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient
) -> None:
    now = app.dispatcher.clock.now()
    await load_population(app.settings, DATA)
    async with app.db.transaction() as s:  # Delftwijk's own figures: 7777 residents of 65+
        s.add(Population(neighbourhood_id=DELFTWIJK, age_band="65+", residents=7777))
    elsewhere = await people(app.db, 13, DELFTWIJK, band="65+")
    await reports(app.db, elsewhere, DELFTWIJK, now)
    await reports(app.db, await people(app.db, 11, SCHALKWIJK), SCHALKWIJK, now)
    await signed_in(app, make_chat, web)
    page = (await web.get("/participation")).text.split("<main>", 1)[1]
    assert "Delftwijk" not in page and "7777" not in page and ">24<" not in page
    assert 'id="hood-1"' in page and 'id="hood-2"' not in page
    assert row(page, "November 2026")[0] == "11"  # Schalkwijk's reporters only
    # Not a single reporter of Schalkwijk shared an age group: nothing to show yet.
    assert "Too few people have shared their age group yet" in page and "0 so far" in page


async def test_people_per_month_by_the_apps_clock(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, clock: FrozenClock
) -> None:
    db, now = app.db, clock.now()  # 26 November 2026
    hood = SCHALKWIJK
    twelve = await people(db, 12, hood)
    await reports(db, twelve, hood, now)
    await reports(db, twelve[:5], hood, now - timedelta(days=1))  # the same people again
    # 31 October 23:30 UTC is 1 November in the Netherlands: November.
    await reports(db, await people(db, 1, hood), hood, datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    await reports(db, twelve[:3], hood, datetime(2026, 10, 5, tzinfo=UTC))  # three: hidden
    await reports(db, twelve, hood, datetime(2025, 11, 30, 12, tzinfo=UTC))  # 13 months ago
    async with db.transaction() as s:
        idea = Idea(neighbourhood_id=hood, author_id=twelve[0], title="Bankje", body="x",
                    created_at=datetime(2026, 9, 3, tzinfo=UTC))  # fmt: skip
        s.add(idea)
        await s.flush()
        s.add_all(IdeaSupport(idea_id=idea.id or 0, person_id=p, created_at=idea.created_at)
                  for p in twelve[1:10])  # fmt: skip
        poll = Poll(neighbourhood_id=hood, question="?", options=["ja", "nee"],
                    closes_at=now, created_at=datetime(2025, 12, 1, tzinfo=UTC))  # fmt: skip
        s.add(poll)
        await s.flush()
        s.add_all(PollVote(poll_id=poll.id or 0, person_id=p, option=0,
                           created_at=datetime(2025, 12, 2, tzinfo=UTC)) for p in twelve[:10])  # fmt: skip
        # A closed round counts in the month voting closed; an open one not yet.
        closed = BudgetRound(neighbourhood_id=hood, title="Wijkbudget", budget=1000,
                             phase="results", closes_at=datetime(2026, 6, 15, tzinfo=UTC))  # fmt: skip
        still_open = BudgetRound(neighbourhood_id=hood, title="Nog open", budget=1000,
                                 phase="voting", closes_at=now + timedelta(days=3))  # fmt: skip
        s.add_all([closed, still_open])
        await s.flush()
        s.add_all(VoterRoll(round_id=closed.id or 0, person_id=p) for p in twelve[:11])
        s.add_all(VoterRoll(round_id=still_open.id or 0, person_id=p) for p in twelve)
        talk = Conversation(neighbourhood_id=hood, question="Het plein?", closes_at=now)
        s.add(talk)
        await s.flush()
        said = Statement(conversation_id=talk.id or 0, author_id=twelve[11], text="Meer groen",
                         created_at=now)  # fmt: skip
        s.add(said)
        await s.flush()
        s.add_all(StatementVote(statement_id=said.id or 0, conversation_id=talk.id or 0,
                                person_id=p, value=1, created_at=now) for p in twelve[:9])  # fmt: skip
    await signed_in(app, make_chat, web)
    page = (await web.get("/participation")).text
    assert '<html lang="en"' in page
    header = re.search(r"<thead><tr>(.*?)</tr></thead>", page, re.S)
    assert header is not None and re.findall(r'<th scope="col">(.*?)</th>', header[1]) == [
        "Month", "Reports", "Ideas and support", "Polls", "Budget votes", "Conversations",
    ]  # fmt: skip
    assert row(page, "November 2026") == ["13", "0", "0", "0", "10"]
    assert row(page, "October 2026") == ["fewer than 10", "0", "0", "0", "0"]
    assert row(page, "September 2026") == ["0", "10", "0", "0", "0"]
    assert row(page, "June 2026") == ["0", "0", "0", "11", "0"]
    assert row(page, "December 2025") == ["0", "0", "10", "0", "0"]
    assert "November 2025" not in page  # twelve months: December 2025 to November 2026
    # Over the twelve months: 13 different reporters, not 13 + 3.
    assert row(page, "The twelve months together") == ["13", "10", "10", "11", "10"]
    # A hidden count has no bar; the largest shown has the full one.
    assert page.count('style="width: 100%"') == 1

    await make_chat("coco", lang="en").say("/taal nl")
    dutch = (await web.get("/participation")).text
    assert row(dutch, "november 2026") == ["13", "0", "0", "0", "10"]
    assert row(dutch, "oktober 2026")[0] == "minder dan 10"


async def test_who_is_missing_waits_for_ten_who_shared(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient
) -> None:
    now = app.dispatcher.clock.now()
    await signed_in(app, make_chat, web)
    none_yet = (await web.get("/participation")).text
    assert "There are no population figures for your neighbourhood yet" in none_yet
    await load_population(app.settings, DATA)
    older = await people(app.db, 6, SCHALKWIJK, band="65+")
    middle = await people(app.db, 3, SCHALKWIJK, band="45-64")
    await reports(app.db, older + middle, SCHALKWIJK, now)
    nine = (await web.get("/participation")).text
    assert "9 so far, at least 10 needed" in nine and "Residents and people" not in nine
    await reports(app.db, await people(app.db, 1, SCHALKWIJK, band="25-44"), SCHALKWIJK, now)
    ten = (await web.get("/participation")).text
    assert "25–44 years: 34 % of residents, 10 % of participants." in ten
    assert row(ten, "65 or older") == ["20 %", "60 %"]
    assert row(ten, "45–64 years") == ["31 %", "30 %"]
    assert row(ten, "15–24 years") == ["15 %", "0 %"]


async def test_statements_do_not_grow_with_residents_or_neighbourhoods(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient
) -> None:
    now = app.dispatcher.clock.now()
    await load_population(app.settings, DATA)
    await reports(app.db, await people(app.db, 3, SCHALKWIJK, band="65+"), SCHALKWIJK, now)
    await signed_in(app, make_chat, web)
    with count_queries(app.db.engine) as few:
        assert (await web.get("/participation")).status_code == 200
    await reports(app.db, await people(app.db, 300, SCHALKWIJK, band="45-64"), SCHALKWIJK, now)
    await reports(app.db, await people(app.db, 40, DELFTWIJK, band="65+"), DELFTWIJK, now)
    await grant_coordinator(app.settings, "fake", "coco", "delftwijk")
    with count_queries(app.db.engine) as many:
        page = await web.get("/participation")
    schalkwijk = page.text.split('id="hood-1"', 1)[1].split("</section>", 1)[0]
    delftwijk = page.text.split('id="hood-2"', 1)[1].split("</section>", 1)[0]
    assert row(schalkwijk, "November 2026")[0] == "303"
    assert row(delftwijk, "November 2026")[0] == "40"
    assert len(many) == len(few)
