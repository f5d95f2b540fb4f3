"""Bulk actions on the web queue: tick reports, then a status with a note, forward, or merge.

Each goes through the chat's services (audit with the coordinator's id, the reporter told
in the chat in their own language). Attacked first: no or a wrong CSRF token, another
neighbourhood's report mixed in, forged ids, absurd forms, merges that would make a chain.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from bot.app import App
from bot.ops.setup_data import apply_setup
from storage.models import AuditEvent, Signal, SignalFollower, SignalForward, SignalUpdate
from tests.support.fake import FakeAdapter, MakeChat
from tests.web.conftest import coordinator, csrf_of, link_in, log_in, resident_report


async def _queue(app: App, make_chat: MakeChat, web: httpx.AsyncClient) -> str:
    """anna and bob report in Schalkwijk (M-1001, M-1002), eve in Delftwijk (M-1003); the
    coordinator of Schalkwijk is logged in. The queue's CSRF token."""
    await resident_report(make_chat, "anna", "Schalkwijk", "Lamp stuk bij de school")
    await resident_report(
        make_chat, "bob", "Schalkwijk", "Bank kapot op het plein", lat=52.39,
        category="Something else",
    )  # fmt: skip
    await resident_report(make_chat, "eve", "Delftwijk", "Geheim van Delftwijk", lat=52.40)
    coco = await coordinator(app, make_chat)
    await log_in(web, link_in(await coco.say("/dashboard")))
    return csrf_of((await web.get("/")).text)


async def _statuses(app: App) -> dict[int, str]:
    async with app.db.session() as s:
        return {sig.id or 0: sig.status for sig in (await s.exec(select(Signal))).all()}


async def _changes(app: App) -> list[AuditEvent]:
    async with app.db.session() as s:
        stmt = select(AuditEvent).where(col(AuditEvent.action).startswith("signal."))
        return list((await s.exec(stmt)).all())


def _news(adapter: FakeAdapter, who: str) -> list[str]:
    return [m.text for m in adapter.in_chat(f"dm:{who}") if "M-100" in m.text]


UNTOUCHED = {1: "new", 2: "new", 3: "new"}


async def test_bulk_without_or_with_a_wrong_token_changes_nothing(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, adapter: FakeAdapter
) -> None:
    csrf = await _queue(app, make_chat, web)
    told_before = len(adapter.sent)
    form = {"report": ["1", "2"], "action": "status", "status": "closed", "note": "Weg"}
    for token in ({}, {"csrf": ""}, {"csrf": csrf[:-1] + ("x" if csrf[-1] != "x" else "y")}):
        refused = await web.post("/bulk", data={**form, **token})
        assert refused.status_code == 403 and "did not come from this site" in refused.text
    assert await _statuses(app) == UNTOUCHED and await _changes(app) == []
    assert len(adapter.sent) == told_before


async def test_not_logged_in_gets_the_login_page(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient
) -> None:
    await resident_report(make_chat, "anna", "Schalkwijk", "Lamp stuk bij de school")
    page = await web.post("/bulk", data={"report": "1", "action": "forward", "csrf": "x"})
    assert page.status_code == 401 and "/dashboard" in page.text
    assert await _changes(app) == []


async def test_status_for_two_reports_tells_both_in_their_language(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, adapter: FakeAdapter
) -> None:
    csrf = await _queue(app, make_chat, web)
    await make_chat("bob", lang="en").say("/taal nl")
    done = await web.post(
        "/bulk?status=open",
        data={"csrf": csrf, "report": ["1", "2"], "action": "status",
              "status": "in_progress", "note": "We kijken er deze week naar"},
    )  # fmt: skip
    assert done.status_code == 200
    assert "M-1001 is now being handled" in done.text and "M-1002 is now being handled" in done.text
    [anna] = [t for t in _news(adapter, "anna") if "News about your report M-1001" in t]
    assert "being handled" in anna and "We kijken er deze week naar" in anna
    [bob] = [t for t in _news(adapter, "bob") if "Nieuws over je melding M-1002" in t]
    assert "in behandeling" in bob and "We kijken er deze week naar" in bob
    assert await _statuses(app) == {1: "in_progress", 2: "in_progress", 3: "new"}
    changes = await _changes(app)
    assert sorted(e.subject_id or 0 for e in changes) == [1, 2]
    coco_id = changes[0].actor_person_id
    assert coco_id is not None and all(e.actor_person_id == coco_id for e in changes)
    assert all(e.detail["note"] == "We kijken er deze week naar" for e in changes)


async def test_one_refusal_does_not_stop_the_others_and_the_note_stays(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, adapter: FakeAdapter
) -> None:
    csrf = await _queue(app, make_chat, web)
    await web.post(
        "/bulk", data={"csrf": csrf, "report": "2", "action": "status", "status": "accepted"}
    )
    # Closing needs a reason, as in the chat: both refused, nothing lost.
    bare = await web.post(
        "/bulk", data={"csrf": csrf, "report": ["1", "2"], "action": "status", "status": "closed"}
    )
    assert bare.status_code == 400 and bare.text.count("give a reason") == 2
    assert await _statuses(app) == {1: "new", 2: "accepted", 3: "new"}
    # "Accepted" without a note: M-1002 has it already, M-1001 changes.
    mixed = await web.post(
        "/bulk",
        data={"csrf": csrf, "report": ["2", "1"], "action": "status", "status": "accepted"},
    )
    assert mixed.status_code == 200
    assert "M-1002 was not changed: M-1002 already has this status." in mixed.text
    assert "M-1001 is now accepted" in mixed.text
    assert 'id="tick-2" name="report" value="2" checked' in mixed.text  # to try again
    assert await _statuses(app) == {1: "accepted", 2: "accepted", 3: "new"}
    assert len([t for t in _news(adapter, "bob") if "accepted" in t]) == 1


async def test_another_neighbourhoods_report_is_not_found(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, adapter: FakeAdapter
) -> None:
    csrf = await _queue(app, make_chat, web)
    page = await web.post(
        "/bulk",
        data={"csrf": csrf, "report": ["3", "1", "999"], "action": "status",
              "status": "resolved", "note": "Gedaan"},
    )  # fmt: skip
    assert page.status_code == 200 and "M-1001 is now solved" in page.text
    # Delftwijk's report reads exactly as one that does not exist.
    for ref in ("M-1003", "M-1999"):
        assert f"{ref} was not changed: I can&#39;t find report {ref}, or it is not in" in page.text
    assert "Geheim" not in page.text and "Delftwijk" not in page.text
    assert await _statuses(app) == {1: "resolved", 2: "new", 3: "new"}
    assert not any("News about" in t for t in _news(adapter, "eve"))
    assert [e.subject_id for e in await _changes(app)] == [1]


@pytest.mark.parametrize(
    "forged",
    ["abc", "-1", "0", "1.0", "1e3", " 1", "٣", "99999999999", "2147483648", ""],
)
async def test_forged_ids_change_nothing(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, forged: str
) -> None:
    csrf = await _queue(app, make_chat, web)
    page = await web.post(
        "/bulk",
        data={"csrf": csrf, "report": ["1", forged], "action": "status",
              "status": "closed", "note": "Dubbel gemeld"},
    )  # fmt: skip
    assert page.status_code == 400 and "nothing was changed" in page.text
    assert ">Dubbel gemeld</textarea>" in page.text  # what was typed is still there
    assert await _statuses(app) == UNTOUCHED and await _changes(app) == []


async def test_duplicated_ids_act_once_and_too_many_change_nothing(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, adapter: FakeAdapter
) -> None:
    csrf = await _queue(app, make_chat, web)
    form = {"csrf": csrf, "action": "status", "status": "resolved", "note": "Klaar"}
    for many in (
        [str(n) for n in range(1, 10_001)],
        ["1"] * 10_000,
        [str(n) for n in range(1, 102)],
    ):
        page = await web.post("/bulk", data={**form, "report": many})
        assert page.status_code == 400 and "at most 100 reports at once" in page.text
        assert "Something went wrong" not in page.text
    assert await _statuses(app) == UNTOUCHED and await _changes(app) == []
    twice = await web.post("/bulk", data={**form, "report": ["1", "1", "1"]})
    assert twice.status_code == 200 and twice.text.count("M-1001 is now solved") == 1
    assert len([t for t in _news(adapter, "anna") if "solved" in t]) == 1
    assert len(await _changes(app)) == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"report": "1", "action": "delete", "note": "Mijn notitie"}, "Choose what to do"),
        ({"report": "1", "note": "Mijn notitie"}, "Choose what to do"),
        ({"report": "1", "action": "status", "status": "forwarded", "note": "Mijn notitie"},
         "Choose a status"),
        ({"report": "1", "action": "status", "status": "", "note": "Mijn notitie"},
         "Choose a status"),
        ({"action": "status", "status": "accepted", "note": "Mijn notitie"},
         "Tick at least one report"),
        ({"report": "1", "action": "merge", "original": "kapot", "note": "Mijn notitie"},
         "type a report number"),
    ],
)  # fmt: skip
async def test_an_incomplete_form_is_explained_and_kept(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, form: dict[str, str], message: str
) -> None:
    csrf = await _queue(app, make_chat, web)
    page = await web.post("/bulk", data={"csrf": csrf, **form})
    assert page.status_code == 400 and message in page.text
    assert ">Mijn notitie</textarea>" in page.text
    assert await _statuses(app) == UNTOUCHED and await _changes(app) == []


async def test_merge_moves_people_and_refuses_itself_and_chains(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, adapter: FakeAdapter
) -> None:
    csrf = await _queue(app, make_chat, web)
    await resident_report(make_chat, "dirk", "Schalkwijk", "Bank stuk", lat=52.41)  # M-1004
    merge = {"csrf": csrf, "action": "merge"}
    # Into another neighbourhood's report, or one that does not exist: not found, alike.
    for ref in ("M-1003", "M-1999", "M-99999999999"):
        page = await web.post("/bulk", data={**merge, "report": "2", "original": ref})
        assert page.status_code == 400 and f"find report {ref}, or it is not in" in page.text
    assert await _statuses(app) == {**UNTOUCHED, 4: "new"}
    # M-1004 and M-1002 into M-1002: itself refused, M-1004 merged.
    page = await web.post("/bulk", data={**merge, "report": ["2", "4"], "original": "M-1002"})
    assert page.status_code == 200
    assert "M-1002 was not changed: Choose another report" in page.text
    assert "M-1004 is now closed" in page.text
    [told] = [t for t in _news(adapter, "dirk") if "M-1004" in t and "closed" in t]
    assert "M-1002" in told
    async with app.db.session() as s:
        dup = await s.get(Signal, 4)
        assert dup is not None and dup.duplicate_of_id == 2
        followers = (
            await s.exec(select(SignalFollower).where(SignalFollower.signal_id == 2))
        ).all()
        assert [f.person_id for f in followers] == [dup.reporter_id]
    [merged] = [e for e in await _changes(app) if e.action == "signal.merged"]
    assert merged.subject_id == 4 and merged.detail == {"into": 2}
    # No chains: not into a merged report, and a merged one is not merged again.
    into_merged = await web.post("/bulk", data={**merge, "report": "1", "original": "M-1004"})
    assert "M-1004 is itself merged into M-1002. Choose M-1002 instead." in into_merged.text
    again = await web.post("/bulk", data={**merge, "report": "4", "original": "M-1001"})
    assert "M-1004 is already merged into M-1002." in again.text
    assert await _statuses(app) == {1: "new", 2: "new", 3: "new", 4: "closed"}


async def test_forward_where_set_up_and_kindly_where_not(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, adapter: FakeAdapter, tmp_path: Path
) -> None:
    csrf = await _queue(app, make_chat, web)
    form = {"csrf": csrf, "action": "forward", "report": ["1", "2"]}
    unset = await web.post("/bulk", data=form)
    assert unset.status_code == 400
    assert unset.text.count("Forwarding to the municipality is not set up for Schalkwijk") == 2
    setup = tmp_path / "forwarding.toml"
    setup.write_text(
        '[[neighbourhood]]\nslug = "schalkwijk"\nname = "Schalkwijk"\n'
        'forwarding = { kind = "open311", base_url = "http://127.0.0.1:1", '
        'api_key_env = "WIJKBOT_TEST_NO_KEY", service_codes = { other = "X" } }\n'
    )
    await apply_setup(app.db, setup)
    sent = await web.post("/bulk", data=form)
    assert sent.status_code == 200 and sent.text.count("is now for the municipality") == 2
    for who, ref in (("anna", "M-1001"), ("bob", "M-1002")):
        assert any(f"We are sending your report {ref}" in t for t in _news(adapter, who))
    again = await web.post("/bulk", data=form)
    assert again.text.count("was already sent to the municipality") == 2
    async with app.db.session() as s:
        assert len((await s.exec(select(SignalForward))).all()) == 2
        updates = (await s.exec(select(SignalUpdate))).all()
        assert sorted(u.signal_id for u in updates if u.status == "forwarded") == [1, 2]
    assert sorted(e.action for e in await _changes(app)) == [
        "signal.forward", "signal.forward", "signal.status", "signal.status",
    ]  # fmt: skip


async def test_results_come_in_the_coordinators_language(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient, adapter: FakeAdapter
) -> None:
    csrf = await _queue(app, make_chat, web)
    await web.post("/language", data={"csrf": csrf, "lang": "nl"})
    bare = await web.post(
        "/bulk", data={"csrf": csrf, "report": "1", "action": "status", "status": "closed"}
    )
    assert "M-1001 is niet veranderd: Geef een reden als je een melding sluit." in bare.text
    done = await web.post(
        "/bulk", data={"csrf": csrf, "report": "1", "action": "status", "status": "accepted"}
    )
    assert "M-1001 is nu geaccepteerd. De melder krijgt hiervan bericht." in done.text
    # anna chose English: she reads it in English, whatever the coordinator's language.
    assert any(
        "News about your report M-1001: it is now accepted" in t for t in _news(adapter, "anna")
    )
