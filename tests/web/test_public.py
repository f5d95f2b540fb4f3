"""The public page of a neighbourhood (`/wijk/<slug>`): only when the setup file opts in,
nothing that identifies a resident, safety reports blurred to ~100 m, paged, and "you said,
we did" by the app's clock."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.setup_data import SetupError, apply_setup, read_setup
from bot.services.signals import status as status_service
from bot.web.app import create_app
from storage.models import (
    BudgetProject,
    BudgetRound,
    Idea,
    IdeaSupport,
    Initiative,
    Person,
    Poll,
    PollVote,
    Signal,
)
from storage.repo import signals
from tests.support.fake import MakeChat
from tests.web.conftest import resident_report

PUBLIC = """
[[neighbourhood]]
slug = "schalkwijk"
name = "Schalkwijk"
public_page = true
"""


async def make_public(app: App, tmp_path: Path) -> None:
    setup = tmp_path / "public.toml"
    setup.write_text(PUBLIC, encoding="utf-8")
    await apply_setup(app.db, setup)


def markers(page: str) -> list[dict[str, object]]:
    found = re.search(r'<script id="map-data" type="application/json">(.*?)</script>', page, re.S)
    assert found is not None
    data = json.loads(found.group(1))
    return list(data["markers"])


async def set_status(app: App, sig_id: int, status: str, note: str) -> None:
    async with app.db.transaction() as s:
        sig = await s.get(Signal, sig_id)
        coco = (await s.exec(select(Person))).first()
        assert sig is not None and coco is not None and coco.id is not None
        await status_service.change_status(s, sig, status, note, coco.id)


async def test_only_a_neighbourhood_that_opted_in_has_a_page(
    app: App, web: httpx.AsyncClient, tmp_path: Path
) -> None:
    nowhere = await web.get("/wijk/nergens")
    assert nowhere.status_code == 404
    closed = await web.get("/wijk/schalkwijk")
    assert closed.status_code == 404 and closed.text == nowhere.text
    await make_public(app, tmp_path)
    page = await web.get("/wijk/schalkwijk")
    assert page.status_code == 200 and "Schalkwijk" in page.text
    assert '<html lang="nl"' in page.text
    other = await web.get("/wijk/delftwijk")
    assert other.status_code == 404 and other.text == nowhere.text
    english = await web.get("/wijk/schalkwijk?lang=en")
    assert '<html lang="en"' in english.text and "You said, we did" in english.text


async def test_nothing_identifies_a_resident(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, tmp_path: Path
) -> None:
    await make_public(app, tmp_path)
    await resident_report(
        make_chat, "vermeulen", "Schalkwijk",
        "Lamp stuk bij Zoë Vermeulen, bel 06-12345678 of @zoe_v", lat=52.371234, lon=4.651234,
    )  # fmt: skip
    await resident_report(
        make_chat, "jansen", "Schalkwijk", "Dealer voor de deur van Piet Jansen",
        lat=52.381234, lon=4.641234, category="Safety",
    )  # fmt: skip
    c = make_chat("de_boer", lang="en")
    await c.say("/wijk")
    await c.press("Schalkwijk")
    await c.say("/melding")
    await c.say("Losse tegel voor Kennemerplein 12, mevrouw De Boer viel")
    await c.press("Skip")
    saved = await c.press("Street or pavement")
    assert any("M-1003" in r.text for r in saved), saved
    await set_status(app, 1, "resolved", "Dank je Zoë, de lamp is vervangen")
    async with app.db.transaction() as s:
        poll = Poll(neighbourhood_id=1, question="Bankje op het plein?", options=["Ja", "Nee"],
                    named=True, closes_at=app.dispatcher.clock.now(),
                    sent_at=app.dispatcher.clock.now(), closed_at=app.dispatcher.clock.now())  # fmt: skip
        s.add(poll)
        await s.flush()
        voter = (await s.exec(select(Person))).first()
        assert voter is not None and poll.id is not None
        s.add(PollVote(poll_id=poll.id, person_id=voter.id or 0, option=0,
                       display_name="Henk Stemmer"))  # fmt: skip
    page = (await web.get("/wijk/schalkwijk")).text
    for secret in ("Vermeulen", "Zoë", "12345678", "zoe_v", "Jansen", "Dealer", "De Boer",
                   "mevrouw", "vermeulen", "dm:", "Henk Stemmer", "Kennemerplein 12",
                   "52.381234", "4.641234", "52.38123", "de lamp is vervangen"):  # fmt: skip
        assert secret not in page, secret
    # What may be known: the category, the status, the street, the poll's result.
    assert "Street lighting" not in page  # Dutch by default
    assert "Straatverlichting" in page and "Veiligheid" in page and "opgelost" in page
    assert "Kennemerplein" in page
    assert "Bankje op het plein?" in page
    spots = {m["category"]: m for m in markers(page)}
    assert (spots["Veiligheid"]["lat"], spots["Veiligheid"]["lon"]) == (52.381, 4.641)
    assert spots["Straatverlichting"]["lat"] == 52.3712


async def test_pages_of_fifty(app: App, web: httpx.AsyncClient, tmp_path: Path) -> None:
    await make_public(app, tmp_path)
    async with app.db.transaction() as s:
        person = Person()
        s.add(person)
        await s.flush()
        for i in range(60):
            await signals.create_signal(
                s, neighbourhood_id=1, reporter_id=person.id or 0, category="waste",
                text=f"afval {i}", lat=52.37 + i / 10000, lon=4.65,
            )  # fmt: skip
        # A closed report (refused, or a duplicate) is not on the public page.
        await signals.create_signal(
            s, neighbourhood_id=1, reporter_id=person.id or 0, category="waste",
            text="geweigerd", lat=52.0, lon=4.0,
        )  # fmt: skip
        (await s.get(Signal, 61)).status = "closed"  # type: ignore[union-attr]
    first = await web.get("/wijk/schalkwijk")
    assert len(markers(first.text)) == 50 and "Pagina 1 van 2" in first.text
    assert "60 open of opgeloste meldingen." in first.text
    second = await web.get("/wijk/schalkwijk?page=2")
    assert len(markers(second.text)) == 10 and "Pagina 2 van 2" in second.text
    assert "M-1061" not in first.text + second.text
    odd = await web.get("/wijk/schalkwijk?page=iets")  # a wrong page is the first page
    assert odd.status_code == 200 and len(markers(odd.text)) == 50
    far = await web.get("/wijk/schalkwijk?page=99")
    assert far.status_code == 200 and markers(far.text) == []


async def test_you_said_we_did_counts_three_months_by_the_apps_clock(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, tmp_path: Path, clock: FrozenClock
) -> None:
    await make_public(app, tmp_path)
    await resident_report(make_chat, "anna", "Schalkwijk", "Lamp kapot")
    await resident_report(make_chat, "bob", "Schalkwijk", "Tweede lamp kapot", lat=52.38)
    await set_status(app, 1, "resolved", "klaar")
    async with app.db.transaction() as s:
        author = (await s.exec(select(Person))).first()
        assert author is not None and author.id is not None
        old = Idea(neighbourhood_id=1, author_id=author.id, title="Geveltuintjes", body="Anna")
        new = Idea(neighbourhood_id=1, author_id=author.id, title="Buurtbarbecue", body="Bob")
        s.add_all([old, new])
        await s.flush()
        s.add(IdeaSupport(idea_id=new.id or 0, person_id=author.id))
        s.add(Initiative(idea_id=old.id or 0, status="done", done_at=clock.now(),
                         done_text="Anna en Bob plantten"))  # fmt: skip
    clock.advance(timedelta(days=100))
    await set_status(app, 2, "resolved", "klaar")
    async with app.db.transaction() as s:
        s.add(Initiative(idea_id=2, status="done", done_at=clock.now()))
    page = (await web.get("/wijk/schalkwijk")).text
    did = page.split('id="we-did"', 1)[1].split("</section>", 1)[0]
    assert "M-1002" in did and "M-1001" not in did  # solved 100 days ago: out of the window
    assert "Buurtbarbecue" in did and "Geveltuintjes" not in did
    assert "Anna en Bob" not in page
    ideas = page.split('id="ideas"', 1)[1].split("</section>", 1)[0]
    assert "Geveltuintjes" in ideas and "Buurtbarbecue – 1 keer gesteund" in ideas
    # Both reports are still listed, solved, with their history.
    listed = page.split('id="reports"', 1)[1].split("</section>", 1)[0]
    assert "M-1001" in listed and "M-1002" in listed and listed.count("opgelost") >= 2


async def test_map_comes_from_this_site_and_tiles_only_when_set(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, tmp_path: Path
) -> None:
    await make_public(app, tmp_path)
    await resident_report(make_chat, "anna", "Schalkwijk", "Lamp kapot")
    page = await web.get("/wijk/schalkwijk")
    csp = page.headers["content-security-policy"]
    assert "img-src 'self';" not in csp and csp.endswith("img-src 'self'")
    assert "script-src" not in csp and "default-src 'self'" in csp  # no inline script
    assert page.headers["cache-control"] == "no-store"
    assert "http" not in page.text.split("<main>", 1)[1]  # no other host named
    assert '<script src="/static/vendor/leaflet/leaflet.js"' in page.text
    for asset in ("vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css",
                  "vendor/leaflet/images/marker-icon.png", "public-map.js"):  # fmt: skip
        assert (await web.get(f"/static/{asset}")).status_code == 200, asset
    assert (await web.get("/static/../app.py")).status_code == 404
    # The operator sets a tile server: only that host is allowed for images.
    app.settings.web_tile_url = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    site = create_app(app.db, app.settings, app.dispatcher.clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=site), base_url="http://127.0.0.1:8089"
    ) as tiled:
        page = await tiled.get("/wijk/schalkwijk")
    assert page.headers["content-security-policy"].endswith(
        "img-src 'self' https://*.tile.example.org"
    )
    assert "tile.example.org" in page.text.split('id="map-data"', 1)[1]


async def test_a_counted_budget_round_shows_its_result(
    app: App, web: httpx.AsyncClient, tmp_path: Path
) -> None:
    await make_public(app, tmp_path)
    async with app.db.transaction() as s:
        round_ = BudgetRound(neighbourhood_id=1, title="Wijkbudget 2026", budget=10000,
                             phase="results", result={"selected": ["P1"], "total_cost": 6000,
                                                      "votes": {"P1": 40, "P2": 12}})  # fmt: skip
        s.add(round_)
        await s.flush()
        s.add_all([
            BudgetProject(round_id=round_.id or 0, code="P1", title="Speeltuin", cost=6000),
            BudgetProject(round_id=round_.id or 0, code="P2", title="Bankjes", cost=5000),
        ])  # fmt: skip
    results = (await web.get("/wijk/schalkwijk")).text.split('id="results"', 1)[1]
    assert "Wijkbudget 2026" in results
    assert re.search(r"Speeltuin \(€ 6000\)</td><td>40</td><td>ja</td>", results)
    assert re.search(r"Bankjes \(€ 5000\)</td><td>12</td><td>nee</td>", results)


def test_public_page_must_be_true_or_false(tmp_path: Path) -> None:
    setup = tmp_path / "setup.toml"
    setup.write_text(PUBLIC.replace("true", '"ja"'), encoding="utf-8")
    with pytest.raises(SetupError, match="public_page is true or false"):
        read_setup(setup)
