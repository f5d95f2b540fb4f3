"""Reports of a conversation: what unites the neighbourhood, where opinions differ, the
opinion map as a picture; on request during it (/gesprek) and to everyone at the end. The
analysis is recomputed by a job while it runs and steers the order of statements. The
export writes the Pol.is open-data files, and analysing them again gives the same groups."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.app import App
from bot.cli import main
from bot.core.clock import FrozenClock
from bot.ops.conversation_export import export_conversation
from bot.services.dialogue import report
from bot.services.dialogue.polis_format import analyse_directory, read_conversation
from storage.models import Person, Statement
from storage.repo import dialogue
from tests.dialogue.test_dialogue import _ids, _open
from tests.support.fake import Chat, MakeChat


def _words(png: bytes) -> str:
    """The chart in words, kept in the PNG for screen readers (and tests)."""
    with Image.open(__import__("io").BytesIO(png)) as img:
        return str(img.info.get("Description", ""))


async def _camps(app: App, clock: FrozenClock, size: int = 10) -> list[int]:
    """Two camps of neighbours (voting through the service layer): one wants benches and
    cars, the other neither; everyone wants more green. Returns the statement ids."""
    conv_id, sids = await _ids(app)
    bankjes, autos, groen = sids[:3]  # the seed statements
    async with app.db.transaction() as s:
        for i in range(2 * size):
            person = Person(locale="nl")
            s.add(person)
            await s.flush()
            assert person.id is not None
            camp = 1 if i % 2 else -1
            for sid, value in ((bankjes, camp), (autos, -camp), (groen, 1)):
                st = await s.get(Statement, sid)
                assert st is not None
                await dialogue.vote(s, st, person.id, value, clock.now())
    return [conv_id, *sids]


async def test_too_few_voters_get_a_plain_line_and_the_consensus_by_votes(
    app: App, make_chat: MakeChat
) -> None:
    _coco, _group, anna, bob = await _open(app, make_chat, moderated=False)
    await anna.press("Take part")
    await anna.press("Agree")
    await anna.press("Agree")
    [listed] = await bob.say("/gesprek")
    assert listed.labels == ["Meedoen", "Tussenstand"]
    [standing] = await bob.press("Tussenstand")
    assert "Te weinig mensen hebben gestemd" in standing.text
    assert "1 persoon stemde, 2 stemmen, 3 stellingen" in standing.text
    assert "Wat Schalkwijk verbindt" in standing.text and "100% eens" in standing.text
    assert "Waar meningen verschillen" not in standing.text and standing.reply.image is None


async def test_how_it_stands_shows_groups_consensus_and_the_map_in_the_readers_language(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    _coco, _group, anna, bob = await _open(app, make_chat, moderated=False)
    await _camps(app, clock)
    await anna.press("Take part")
    for _ in range(3):
        await anna.press("Agree")
    [standing] = await anna.press("How it stands")
    text = standing.text
    assert "What unites Schalkwijk" in text and "“Meer groen”" in text
    assert "Where opinions differ" in text and "Group A (" in text and "Group B (" in text
    assert "21 people voted, 63 votes, 3 statements" in text
    assert standing.reply.image is not None and standing.reply.image.startswith(b"\x89PNG")
    words = _words(standing.reply.image)
    assert "Group A" in words and "Group B" in words
    await bob.say("/gesprek")
    [nl] = await bob.press("Tussenstand")
    assert "Wat Schalkwijk verbindt" in nl.text and "Groep A" in _words(nl.reply.image or b"")


async def test_the_end_sends_each_participant_the_report_with_the_map(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    _coco, _group, anna, bob = await _open(app, make_chat, moderated=False)
    await _camps(app, clock)
    await anna.press("Take part")
    await anna.press("Agree")
    await bob.press("Meedoen")
    await bob.press("Oneens")
    clock.advance(timedelta(days=15))
    await app.run_jobs_now()
    await app.flush_outbox()
    [end] = [m for m in anna.mine() if "has ended" in m.text]
    assert "Where opinions differ" in end.text and end.reply.image is not None
    [eind] = [m for m in bob.mine() if "is afgelopen" in m.text]
    assert "Waar meningen verschillen" in eind.text and eind.reply.image is not None
    assert "Groep B" in _words(eind.reply.image)


async def test_the_job_recomputes_and_a_divisive_statement_comes_before_agreed_ones(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    _coco, _group, anna, _bob = await _open(app, make_chat, moderated=False)
    conv_id, *_ = await _camps(app, clock)
    # Without the analysis: the statement most people agree with comes first.
    [before] = await anna.press("Take part")
    assert "“Meer groen”" in before.text
    await app.run_jobs_now()
    state = report.cached(conv_id)
    assert state is not None and state.n_groups == 2
    [after] = await anna.press("Take part")
    assert "“Meer groen”" not in after.text  # a statement that splits the groups first
    await app.run_jobs_now()  # no new votes: the smoothing state is not stepped again
    assert report.cached(conv_id) is state


async def test_export_writes_polis_files_that_give_the_same_groups_again(
    app: App,
    make_chat: MakeChat,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    coco, _group, anna, _bob = await _open(app, make_chat, moderated=True)
    conv_id, *_ = await _camps(app, clock)
    await anna.press("Take part")
    await anna.press("Add my own statement")
    await anna.say("Een speeltuin voor kleine kinderen")
    await app.flush_outbox()
    async with app.db.session() as s:
        waiting = await dialogue.statements(s, conv_id, status="waiting")
    await coco.press_data(f"gm:{waiting[0].id}:no")
    await coco.say("Past niet")
    out = tmp_path / "export"
    monkeypatch.setenv("WIJKBOT_DATABASE_URL", app.settings.effective_database_url)
    monkeypatch.setenv("WIJKBOT_DATA_DIR", str(app.settings.data_dir))
    argv = ["export", "conversation", str(conv_id), "--format", "csv", "--out", str(out)]
    assert await asyncio.to_thread(main, argv) == 0  # as an operator types it
    assert "comments.csv" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} >= {
        "comments.csv", "participants-votes.csv", "votes.csv", "summary.csv"
    }  # fmt: skip
    files = read_conversation(out)
    assert any(st.moderated == -1 and "speeltuin" in st.text for st in files.statements.values())
    again = json.loads(analyse_directory(out, as_json=True))["groups"]
    assert again == {str(p): g for p, g in files.polis_groups.items()}
    assert len(set(again.values())) == 2 and len(again) == 20
    # Numbers, never accounts: participants are counted from 0.
    assert sorted(int(p) for p in again) == list(range(20))


async def test_export_of_an_unknown_conversation_says_so(app: App, tmp_path: Path) -> None:
    from bot.ops.admin import AdminError

    try:
        await export_conversation(app.settings, 999, "csv", tmp_path / "x")
    except AdminError as exc:
        assert "999" in str(exc)
    else:
        raise AssertionError("no error")


_ = Chat  # re-exported fixture types


def test_what_unites_lists_only_statements_most_people_agree_with() -> None:
    """Three camps, each agreeing with a different third of the statements: nothing unites
    them, and the report must not call a 33 % statement common ground."""
    from bot.core.i18n import use_locale
    from bot.services.dialogue.analysis import analyse
    from storage.dialogue_models import Conversation as Conv
    from storage.repo.dialogue import Totals

    votes = [(p, s, 1 if (s + p % 3) % 3 == 0 else -1) for p in range(30) for s in range(6)]
    a = analyse(votes)
    assert a.n_groups >= 2
    texts = {s: f"Stelling {s}" for s in range(6)}
    conv = Conv(neighbourhood_id=1, question="Wat doen we?", closes_at=None)  # type: ignore[arg-type]
    with use_locale("en"):
        got = report.render(conv, a, Totals(30, 180, 6), texts, "Schalkwijk")
    unites = got.text.split("What unites Schalkwijk\n")[1].split("\n\n")[0]
    assert "•" not in unites and "Nothing yet that most people agree on." in unites
    assert "Where opinions differ" in got.text and got.chart is not None
