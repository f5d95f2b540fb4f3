"""A whole neighbourhood-budget round in chat, on SQLite and PostgreSQL.

Proposals, feasibility, voting codes, votes in direct chats (members and code holders),
opening and closing by the scheduled job, results published with a chart, then the real
`wijkbot budget export` and `wijkbot tally` recount equal to what was published.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlmodel import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from bot.ops.budget import make_codes
from storage.models import Ballot, BudgetRound, ConversationState, SealedBallot, VoterRoll
from tests.conftest import ROOT
from tests.support.fake import Chat, FakeAdapter, MakeChat

OPENS = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # 19:00 in Amsterdam
CLOSES = datetime(2026, 12, 15, 19, 0, tzinfo=UTC)  # 20:00 in Amsterdam


async def resident(make_chat: MakeChat, name: str, hood: str = "Schalkwijk") -> Chat:
    chat: Chat = make_chat(name, lang="en")
    await chat.say("/wijk")
    await chat.press(hood)
    return chat


async def create_round(
    coco: Chat, title: str = "Schalkwijk aan Zet 2027", voters: str = "Both"
) -> None:
    [menu] = await coco.say("/budgetronde")
    assert "no budget rounds yet" in menu.text
    await coco.press("New budget round")
    [ask] = await coco.say(title)
    assert "total budget" in ask.text
    [ballot] = await coco.say("€ 70.000")
    assert "How do residents vote?" in ballot.text
    [rule] = await coco.press("a basket")
    assert "greedy" in rule.text and "mes-add1-greedy" in rule.text
    # Plain names with a one-line explanation each; the technical name only in brackets.
    assert "Most votes first (greedy): " in rule.text and "Equal shares (mes): " in rule.text
    assert "Most votes first (greedy)" in [b for b in rule.labels]
    [who] = await coco.press("greedy")
    assert "Who may vote?" in who.text and "informal" in who.text
    ready, view = await coco.press(voters)
    assert "is ready" in ready.text and "/budget" in ready.text
    assert "Budget: €70,000" in view.text and "Phase: proposals" in view.text


async def propose(chat: Chat, title: str, text: str, cost: str) -> str:
    [listing] = await chat.say("/wijkbudget")
    assert "Schalkwijk aan Zet 2027" in listing.text
    await chat.press("Propose a project")
    await chat.say(title)
    await chat.say(text)
    [confirm] = await chat.say(cost)
    assert "visible to everyone in Schalkwijk" in confirm.text
    assert "name is not shown" in confirm.text
    [done] = await chat.press("Send in")
    assert "Your proposal has number" in done.text
    return done.text.split("number ")[1].split(".")[0]


async def judge(coco: Chat, code: str, feasible: bool, reason: str = "") -> None:
    await coco.say("/budgetronde")
    await coco.press("W-1")
    [proposal] = await coco.press(f"Check {code} ")
    assert "Is this project feasible?" in proposal.text
    if feasible:
        await coco.press("Feasible")
        said = await coco.press("No note")
    else:
        await coco.press("Not feasible")
        said = await coco.say(reason)
    assert "The proposer will be told." in said[0].text


async def vote(chat: Chat, picks: list[str], *, start: bool = False) -> list[str]:
    """Fill the basket, check, confirm; returns every text the voter saw on the way."""
    if start:
        await chat.say("/stem")
    seen = []
    for code in picks:
        [basket] = await chat.press(f"Add {code} ")
        seen.append(basket.text)
    [summary] = await chat.press("Check my vote")
    seen.append(summary.text)
    assert "your vote is final" in summary.text
    [receipt] = await chat.press("Confirm my vote")
    seen.append(receipt.text)
    assert "is counted" in receipt.text
    return seen


def chart_text(png: bytes | None) -> str:
    """What the chart says in words (its PNG description, also read by screen readers)."""
    assert png is not None
    with Image.open(io.BytesIO(png)) as img:
        return str(img.info.get("Description", ""))


def run_cli(app: App, tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(WIJKBOT_DATABASE_URL=str(app.settings.database_url), WIJKBOT_DATA_DIR=str(tmp_path))
    env.pop("WIJKBOT_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv], capture_output=True, text=True, env=env, cwd=ROOT
    )


async def test_a_whole_round(
    app: App, make_chat: MakeChat, adapter: FakeAdapter, clock: FrozenClock, tmp_path: Path
) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")  # made coordinator by the admin command: Dutch until chosen
    group: Chat = make_chat("coco", group="buurt", lang="en")
    await group.say("/koppel Schalkwijk")
    await create_round(coco)

    # The coordinator adds a project and makes voting codes for letters.
    await coco.press("Add a project")
    await coco.say("Bankjes bij de vijver")
    await coco.say("Vier bankjes langs het water, voor ouderen.")
    added, _view = await coco.say("12.000")
    assert "Project 1 “Bankjes bij de vijver” is added" in added.text
    codes_file = tmp_path / "codes.csv"
    assert await make_codes(app.settings, 1, 3, codes_file) == 3
    codes = [row[0] for row in list(csv.reader(codes_file.open()))[1:]]

    # Proposals phase: residents propose and support.
    anna = await resident(make_chat, "anna")
    bob = await resident(make_chat, "bob")
    carla = await resident(make_chat, "carla")
    dirk = await resident(make_chat, "dirk")
    assert await propose(anna, "Moestuin", "Een moestuin voor de buurt.", "30.000") == "2"
    assert await propose(bob, "Speeltuin", "Nieuwe toestellen in het park.", "45000") == "3"
    assert await propose(carla, "Zwerfvuil-actie", "Grijpers en vuilniszakken.", "8000") == "4"
    assert await propose(dirk, "Gouden fontein", "Een fontein op het plein.", "60000") == "5"
    [ok] = await bob.press("Support 2")
    assert "You now support 2 “Moestuin”" in ok.text and "1 supporter." in ok.text
    await carla.press("Support 2")
    [twice] = await bob.press("Support 2")
    assert "already support 2" in twice.text
    await anna.say("/wijkbudget")
    [own] = await anna.press("Support 2")
    assert "your own proposal" in own.text
    await app.flush_outbox()
    assert [s for s in adapter.in_chat("dm:coco") if "New proposal 2 “Moestuin”" in s.text]

    # Feasibility: only feasible proposals go on the ballot; proposers hear the verdict.
    for code in ("2", "3", "4"):
        await judge(coco, code, True)
    await judge(coco, "5", False, "Te duur en niet van de gemeente toegestaan.")
    await app.flush_outbox()
    assert [
        s for s in adapter.in_chat("dm:anna") if "“Moestuin”" in s.text and "is feasible" in s.text
    ]
    [no] = [s for s in adapter.in_chat("dm:dirk") if "not feasible" in s.text]
    assert "Te duur en niet van de gemeente toegestaan." in no.text

    # Plan voting (Dutch time); not open yet.
    await coco.say("/budgetronde")
    await coco.press("W-1")
    await coco.press("Plan voting")
    await coco.say("1-12-2026 19:00")
    [confirm] = await coco.say("15-12-2026 20:00")
    assert "locked" in confirm.text
    [planned] = await coco.press("Yes, plan voting")
    assert "1 December" in planned.text and "15 December" in planned.text
    [early] = await anna.say("/stem")
    assert "no neighbourhood budget vote open" in early.text

    # The job opens voting at its time: rules locked, the neighbourhood told.
    clock.advance(OPENS - clock.now() + timedelta(seconds=30))
    await app.run_jobs_now()
    assert [s for s in adapter.in_chat("dm:bob") if "Voting has started" in s.text]
    [locked] = await coco.press("Change budget")
    assert "locked" in locked.text and "Nothing was changed" in locked.text

    # Members vote in their direct chat.
    [start] = await anna.say("/stem")
    assert "Vote in “Schalkwijk aan Zet 2027”" in start.text
    assert "Gouden fontein" not in start.text  # not feasible: not on the ballot
    assert "In your basket: €0 of €70,000" in start.text
    seen = await vote(anna, ["2", "1"])
    assert "In your basket: €42,000 of €70,000" in seen[1]
    assert "Moestuin" not in seen[-1] and "Bankjes" not in seen[-1]  # the receipt: no choices
    [again] = await anna.say("/stem")
    assert "already voted" in again.text
    await vote(bob, ["3", "4"], start=True)
    await vote(carla, ["2", "4"], start=True)
    [in_group] = await make_chat("carla", group="buurt", lang="en").say("/stem")
    assert "private chat" in in_group.text

    # Code holders (not members) vote with the code from their letter.
    erik: Chat = make_chat("erik", lang="en")
    [ask] = await erik.say("/stem")
    assert "voting code" in ask.text
    [typo] = await erik.say("ABCD-EFGH")
    assert "does not look right" in typo.text
    [basket] = await erik.say(codes[0].lower().replace("-", " "))
    assert "Add 3 " in " ".join(basket.labels)
    await vote(erik, ["3"])
    fien: Chat = make_chat("fien", lang="en")
    await fien.say(f"/stem {codes[1]}")
    await vote(fien, ["1", "2", "4"])
    gijs: Chat = make_chat("gijs", lang="en")
    await gijs.say("/stem")
    [used] = await gijs.say(codes[0])
    assert "already been used" in used.text

    # No dialog row keeps a voter next to a basket; before closing only the turnout shows.
    async with app.db.session() as s:
        dialogs = (await s.exec(select(ConversationState))).all()
        assert not [d for d in dialogs if "basket" in d.data or "code" in d.data]
        # Sealed until closing: no readable ballot exists while voting is open.
        assert len((await s.exec(select(SealedBallot))).all()) == 5
        assert len((await s.exec(select(Ballot))).all()) == 0
        assert len((await s.exec(select(VoterRoll))).all()) == 5
    await coco.say("/budgetronde")
    [turnout] = await coco.press("W-1")
    assert "5 people have voted so far" in turnout.text
    assert "Chosen" not in turnout.text and "3 votes" not in turnout.text

    # After the closing time the job counts and publishes; a late vote is refused.
    late: Chat = make_chat("late", lang="en")
    clock.advance(CLOSES - clock.now() - timedelta(minutes=1))
    await late.say("/stem")
    clock.advance(timedelta(minutes=1, seconds=5))
    await app.run_jobs_now()
    [refused] = await late.say(codes[2])
    assert "no neighbourhood budget vote open" in refused.text
    async with app.db.session() as s:
        round_ = (await s.exec(select(BudgetRound))).one()
        assert round_.phase == "results" and round_.published_at is not None
        result = round_.result
    assert result is not None
    assert result["selected"] == ["1", "2", "4"] and result["total_cost"] == 50000
    assert result["votes"] == {"1": 2, "2": 3, "3": 2, "4": 3} and result["voters"] == 5
    published = [s for s in adapter.in_chat("g:buurt") if "Schalkwijk aan Zet 2027" in s.text]
    assert published[-1].reply.image is not None  # the chart; groups read the default language
    assert "Pabulib" in published[-1].text
    [dm] = [s for s in adapter.in_chat("dm:anna") if "Results of" in s.text]
    assert dm.reply.image is not None and "5 people voted" in dm.text
    assert "Together €50,000 of €70,000" in dm.text
    assert "Counted with: Most votes first – " in dm.text
    # Every project on the ballot with cost and votes, chosen or not and why not.
    assert "• 3 Speeltuin: €45,000 – 2 votes – not chosen: it did not fit" in dm.text
    assert "• 2 Moestuin: €30,000 – 3 votes – chosen" in dm.text
    assert "5 Gouden fontein: not on the ballot, not feasible" in dm.text
    assert "pabutools" not in dm.text and "lower project number" in dm.text
    # The chart names every project on the ballot with votes and cost, and a legend.
    alt = chart_text(dm.reply.image)
    assert "3 Speeltuin: 2 votes, €45,000, not chosen" in alt and "Gouden fontein" not in alt
    assert "2 Moestuin: 3 votes, €30,000, chosen" in alt
    await coco.say("/budgetronde")
    [totals] = await coco.press("W-1")
    assert "– chosen" in totals.text and "3 votes" in totals.text

    # Anyone can download the anonymous ballots in chat, as a file.
    [shown] = await anna.say("/wijkbudget")
    assert "Results of" in shown.text
    [file] = await anna.press("Download the ballots")
    document = file.reply.document
    assert document is not None and document.name.endswith(".pb")
    assert "Pabulib" in file.text and "tally" in file.text
    in_chat = document.data.decode()
    assert "VOTES" in in_chat and in_chat.count("\n") > 10

    # Anyone can recount: the real CLI exports, and `wijkbot tally` equals what was published.
    out = tmp_path / "round.pb"
    done = await asyncio.to_thread(
        run_cli, app, tmp_path, "budget", "export", "1", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    done = await asyncio.to_thread(
        run_cli, app, tmp_path, "tally", str(out), "--rule", "greedy", "--json"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "selected": result["selected"],
        "total_cost": result["total_cost"],
    }
