"""Forged buttons: whoever presses controls the data, so every button checks that this
person may act on this object now.

An outsider (a resident of Delftwijk, a coordinator of Delftwijk, someone we never met, a
group that is not linked) presses buttons of Schalkwijk's polls, reports, budget rounds and
themes, and absurd data for every kind of button. Each press gets a kind answer and changes
nothing: no vote, no status, no follower, no outbox row, no audit event, no new person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel, select, text

from bot.app import App
from bot.core.callbacks import MAX_ID, registered
from bot.core.clock import FrozenClock
from bot.ops.admin import grant_coordinator
from storage.models import Poll
from storage.repo import budgets, ideas, people, places, signals
from tests.support.fake import Chat, MakeChat, Sent

STALE = "This button no longer works"
COORDINATORS_ONLY = "Only a coordinator"
BROKEN = "something went wrong"
# Rows a press may touch without changing anything a person would notice.
UNWATCHED = {"conversationstate", "synccursor", "alembic_version"}


@dataclass
class World:
    app: App
    coco: Chat  # coordinator of Schalkwijk
    anna: Chat  # resident of Schalkwijk, reporter of the report
    fien: Chat  # resident of Schalkwijk who follows Greening
    dirk: Chat  # resident of Delftwijk who follows Greening too
    dora: Chat  # coordinator of Delftwijk
    nobody: Chat  # never talked to the bot
    elsewhere: Chat  # dirk in a group that is not linked to anything
    poll: int  # to everyone in Schalkwijk
    theme_poll: int  # to the followers of Greening in Schalkwijk
    signal: int  # anna's report in Schalkwijk
    idea: int  # an idea in Schalkwijk
    local_theme: int  # a theme of Schalkwijk only
    other_theme: int  # a theme of Delftwijk only
    round: int  # a Schalkwijk budget round taking proposals
    proposal: int  # anna's proposal in it
    ballot_project: int  # a coordinator's project in it (on the ballot, no verdict)
    voting_round: int  # a Schalkwijk round open for voting


async def _resident(make_chat: MakeChat, name: str, hood: str) -> Chat:
    chat: Chat = make_chat(name, lang="en")
    await chat.say("/wijk")
    await chat.press(hood)
    return chat


async def _coordinator(app: App, make_chat: MakeChat, name: str, slug: str) -> Chat:
    await grant_coordinator(app.settings, "fake", name, slug)
    chat: Chat = make_chat(name, lang="en")
    await chat.say("/taal en")
    return chat


async def _person(app: App, user: str) -> int:
    async with app.db.session() as s:
        person = await people.person_for_account(s, "fake", user)
        assert person is not None and person.id is not None
        return person.id


async def _send_poll(coco: Chat, line: str, target: str | None = None) -> None:
    await coco.say(f"/peiling {line}")
    if target is not None:
        await coco.press("Change who gets it")
        await coco.press(target)
    sent = said(await coco.press("Send"))
    assert "Sent to" in sent, sent


@pytest.fixture
async def world(app: App, make_chat: MakeChat, clock: FrozenClock) -> World:
    coco = await _coordinator(app, make_chat, "coco", "schalkwijk")
    dora = await _coordinator(app, make_chat, "dora", "delftwijk")
    group: Chat = make_chat("coco", group="schalkwijk-app", lang="en")
    await group.say("/koppel Schalkwijk")
    anna = await _resident(make_chat, "anna", "Schalkwijk")
    fien = await _resident(make_chat, "fien", "Schalkwijk")
    dirk = await _resident(make_chat, "dirk", "Delftwijk")
    for follower in (fien, dirk):
        [followed] = await follower.say("/volg vergroening")
        assert "You now follow" in followed.text
    async with app.db.transaction() as s:
        hood = await places.neighbourhood_by_slug(s, "schalkwijk")
        assert hood is not None and hood.id is not None
        local = await places.upsert_theme(s, "speeltuin-schalkwijk", {"en": "Playground"}, hood.id)
        delft = await places.neighbourhood_by_slug(s, "delftwijk")
        assert delft is not None and delft.id is not None
        other = await places.upsert_theme(s, "haven-delftwijk", {"en": "Harbour"}, delft.id)
        anna_id = await people.person_for_account(s, "fake", "anna")
        assert anna_id is not None and anna_id.id is not None
        sig = await signals.create_signal(
            s, neighbourhood_id=hood.id, reporter_id=anna_id.id, category="road",
            text="Losse stoeptegel", address="Kerkstraat 1",
        )  # fmt: skip
        idea = await ideas.create_idea(
            s, neighbourhood_id=hood.id, author_id=anna_id.id, title="Bankje", body="",
            theme_id=None,
        )  # fmt: skip
        round_ = await budgets.create_round(
            s, neighbourhood_id=hood.id, title="Schalkwijk aan Zet", budget=70000,
            counting_rule="greedy",
        )  # fmt: skip
        on_ballot = await budgets.add_project(
            s, round_, title="Bomen", description="Meer bomen", cost=10000
        )
        proposal = await budgets.add_project(
            s, round_, title="Speeltuin", description="Een speeltuin", cost=20000,
            proposer_id=anna_id.id,
        )  # fmt: skip
        voting = await budgets.create_round(
            s, neighbourhood_id=hood.id, title="Schalkwijk stemt", budget=50000,
            counting_rule="greedy",
        )  # fmt: skip
        await budgets.add_project(s, voting, title="Bankjes", description="", cost=5000)
        await budgets.open_voting(
            s, voting, clock.now() - timedelta(hours=1), clock.now() + timedelta(days=7)
        )
        ids = (local.id, other.id, sig.id, idea.id, round_.id, proposal.id, on_ballot.id, voting.id)
    local_id, other_id, sig_id, idea_id, round_id, proposal_id, project_id, voting_id = ids
    await _send_poll(coco, "Meer bankjes? | Ja | Nee")
    await _send_poll(coco, "Meer groen? | Ja | Nee", target="followers of Greening in Schalkwijk")
    await app.flush_outbox()
    async with app.db.session() as s:
        polls = {p.question: p.id for p in (await s.exec(select(Poll))).all()}
    assert all(i is not None for i in ids)
    return World(
        app=app, coco=coco, anna=anna, fien=fien, dirk=dirk, dora=dora,
        nobody=make_chat("nobody", lang="en"),
        elsewhere=make_chat("dirk", group="somewhere-else", lang="en"),
        poll=polls["Meer bankjes?"] or 0, theme_poll=polls["Meer groen?"] or 0,
        signal=sig_id or 0, idea=idea_id or 0, local_theme=local_id or 0,
        other_theme=other_id or 0, round=round_id or 0,
        proposal=proposal_id or 0, ballot_project=project_id or 0, voting_round=voting_id or 0,
    )  # fmt: skip


async def snapshot(app: App) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a person could notice, table by table."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with app.db.session() as s:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in UNWATCHED:
                continue
            rows = (await s.exec(text(f'SELECT * FROM "{table.name}"'))).all()  # type: ignore[call-overload]
            out[table.name] = sorted((tuple(map(repr, r)) for r in rows), key=repr)
    return out


def said(replies: list[Sent]) -> str:
    return "\n".join(r.text for r in replies)


async def assert_refused(w: World, who: Chat, data: str, answer: str = STALE) -> str:
    before = await snapshot(w.app)
    replies = await who.press_data(data)
    after = await snapshot(w.app)
    await w.app.flush_outbox()
    assert BROKEN not in said(replies), (data, said(replies))
    assert answer in said(replies), (data, said(replies))
    changed = {t for t in before if before[t] != after[t]}
    assert not changed, (data, changed, said(replies))
    return said(replies)


# -- polls ----------------------------------------------------------------------------------


async def test_a_resident_of_another_neighbourhood_cannot_vote(world: World) -> None:
    w = world
    for data in (f"pv:{w.poll}:0", f"pv:{w.poll}:1"):
        await assert_refused(w, w.dirk, data)
    await assert_refused(w, w.elsewhere, f"pv:{w.poll}:0")  # nor from a group not linked
    await assert_refused(w, w.nobody, f"pv:{w.poll}:0")  # nor someone we never met
    [voted] = await w.anna.press_data(f"pv:{w.poll}:0")  # a resident of Schalkwijk can
    assert "Your vote" in voted.text


async def test_a_theme_poll_is_for_its_followers_in_that_neighbourhood(world: World) -> None:
    w = world
    await assert_refused(w, w.anna, f"pv:{w.theme_poll}:0")  # Schalkwijk, not following
    await assert_refused(w, w.dirk, f"pv:{w.theme_poll}:0")  # following, not Schalkwijk
    [voted] = await w.fien.press_data(f"pv:{w.theme_poll}:0")
    assert "Your vote" in voted.text


async def test_results_and_the_poll_itself_are_for_its_audience(world: World) -> None:
    w = world
    await w.anna.press_data(f"pv:{w.poll}:0")
    for data in (f"pr:{w.poll}", f"poll:{w.poll}"):
        text = await assert_refused(w, w.dirk, data)
        assert "Ja" not in text
    await assert_refused(w, w.anna, f"pr:{w.theme_poll}")
    [results] = await w.anna.press_data(f"pr:{w.poll}")
    assert "Ja: 1" in results.text
    [coordinator] = await w.coco.press_data(f"pr:{w.theme_poll}")  # the poll's coordinator
    assert "Results so far" in coordinator.text


async def test_only_the_polls_coordinators_close_it(world: World) -> None:
    w = world
    await assert_refused(w, w.dirk, f"pc:{w.poll}:yes", COORDINATORS_ONLY)
    await assert_refused(w, w.dora, f"pc:{w.poll}:yes")
    await assert_refused(w, w.dora, f"pc:{w.poll}")


# -- reports --------------------------------------------------------------------------------


async def test_a_report_is_seen_and_followed_only_by_its_neighbourhood(world: World) -> None:
    w = world
    for data in (f"sigview:{w.signal}", f"sigview:{w.signal}:follow"):
        text = await assert_refused(w, w.dirk, data)
        assert "stoeptegel" not in text and "Kerkstraat" not in text
        await assert_refused(w, w.nobody, data)
        await assert_refused(w, w.elsewhere, data)
    [seen] = await w.fien.press_data(f"sigview:{w.signal}")  # a neighbour, as in the digest
    assert "Losse stoeptegel" in seen.text


async def test_only_the_reporter_answers_about_a_report(world: World) -> None:
    w = world
    for data in (f"solved:{w.signal}:no", f"solved:{w.signal}:yes", f"ans:{w.signal}"):
        await assert_refused(w, w.dirk, data)
        await assert_refused(w, w.fien, data)
    # The reporter's Answer button works only after a coordinator asked something.
    await assert_refused(w, w.anna, f"ans:{w.signal}")


async def test_coordinator_buttons_of_a_report_are_for_its_coordinators(world: World) -> None:
    w = world
    for data in (f"sig:{w.signal}:open", f"sig:{w.signal}:accepted", f"tri:{w.signal}:close",
                 f"tri:{w.signal}:forward", f"tri:{w.signal}:ask"):  # fmt: skip
        await assert_refused(w, w.dirk, data, COORDINATORS_ONLY)
        await assert_refused(w, w.dora, data, "not a coordinator there")
    # Statuses the coordinator is never offered as a button: "sent to the municipality"
    # without sending it, or closing without the reason it needs.
    for status in ("forwarded", "closed", "new", "reopened"):
        await assert_refused(w, w.coco, f"sig:{w.signal}:{status}")


# -- budget ---------------------------------------------------------------------------------


async def test_proposals_are_supported_and_made_by_the_neighbourhood(world: World) -> None:
    w = world
    await assert_refused(w, w.dirk, f"bud:sup:{w.proposal}")
    await assert_refused(w, w.dirk, f"bud:new:{w.round}")
    await assert_refused(w, w.nobody, f"bud:sup:{w.proposal}")
    # A project a coordinator put on the ballot was never offered for support.
    await assert_refused(w, w.fien, f"bud:sup:{w.ballot_project}")
    [supported] = await w.fien.press_data(f"bud:sup:{w.proposal}")
    assert "You now support" in supported.text


async def test_a_vote_in_another_neighbourhood_needs_its_letter_code(world: World) -> None:
    w = world
    before = await snapshot(w.app)
    [asked] = await w.dirk.press_data(f"bvo:{w.voting_round}")
    assert "voting code" in asked.text  # no basket without a code of that round
    assert await snapshot(w.app) == before
    await assert_refused(w, w.dirk, f"bvo:{w.round}", "has not started yet")


async def test_round_buttons_are_for_its_coordinators_and_its_phase(world: World) -> None:
    w = world
    r = w.round
    for data in (f"bro:{r}:show", f"bro:{r}:budget", f"bro:{r}:no:{w.proposal}", "bro:new"):
        await assert_refused(w, w.dirk, data, COORDINATORS_ONLY)
    for data in (f"bro:{r}:show", f"bro:{r}:yes:{w.proposal}", f"bro:{r}:check:{w.proposal}"):
        await assert_refused(w, w.dora, data, "can't find that budget round")
    await assert_refused(w, w.coco, f"bro:{w.voting_round}:budget", "locked")
    # A verdict only on a resident's proposal that waits for one.
    await assert_refused(w, w.coco, f"bro:{r}:no:{w.ballot_project}")
    await assert_refused(w, w.coco, f"bro:{r}:check:{w.ballot_project}")


# -- themes, ideas, digests --------------------------------------------------------------------


async def test_themes_of_another_neighbourhood_are_not_offered(world: World) -> None:
    w = world
    await assert_refused(w, w.dirk, f"theme:{w.local_theme}:on", "Type /themes")
    [followed] = await w.fien.press_data(f"theme:{w.local_theme}:on")
    assert "Playground" in followed.text


async def test_ideas_are_public_on_the_platform(world: World) -> None:
    """Anyone may support an idea of any neighbourhood: /ideeen shows every neighbourhood's
    ideas, support is a sign of interest and not a vote, and its author is only told a count."""
    [supported] = await world.dirk.press_data(f"idea:support:{world.idea}")
    assert "You now support I-" in supported.text


# -- the choices of a dialog ----------------------------------------------------------------


# A dialog's buttons carry a value too ("@state|value"): a theme of another neighbourhood,
# or of no neighbourhood at all, is not one of the choices.


async def test_an_ideas_theme_is_one_of_my_neighbourhood(world: World) -> None:
    w = world
    await w.dirk.say("/idee")
    await w.dirk.say("Een bankje bij de haven")
    await w.dirk.press("Skip")
    for theme in (w.local_theme, 99999, MAX_ID):
        [again] = await w.dirk.press_data(f"@IdeaForm.theme|{theme}")
        assert "Please choose one of the buttons" in again.text
    [confirm] = await w.dirk.press("Harbour")  # a theme of Delftwijk, where dirk lives
    assert "Shall I post it?" in confirm.text


async def test_a_polls_theme_is_one_of_its_neighbourhood(world: World) -> None:
    w = world
    await w.coco.say("/peiling Meer groen? | Ja | Nee")
    await w.coco.press("Change who gets it")
    schalkwijk = w.coco.button("everyone in Schalkwijk")[1].data.rsplit("|", 1)[1].rstrip(":")
    for theme in (w.other_theme, 99999):
        [again] = await w.coco.press_data(f"@PollForm.target|{schalkwijk}:{theme}")
        assert "Please choose one of the buttons" in again.text
    [summary] = await w.coco.press("followers of Playground in Schalkwijk")
    assert "Goes to: followers of Playground in Schalkwijk" in summary.text


async def test_onboarding_offers_the_themes_of_the_chosen_neighbourhood(world: World) -> None:
    w = world
    newcomer: Chat = w.nobody
    await newcomer.say("/start")
    await newcomer.press("English")
    await newcomer.press("Delftwijk")
    before = await snapshot(w.app)
    [refused] = await newcomer.press_data(f"@Onboarding.themes|{w.local_theme}:on")
    assert "Tap a theme" in refused.text
    assert before["themefollow"] == (await snapshot(w.app))["themefollow"]


async def test_choosing_where_you_live_in_wijkbudget_lets_you_take_part(
    world: World, make_chat: MakeChat
) -> None:
    """Without a home, /wijkbudget asks where you live; that answer is your home, so the
    proposals there are yours to support (supporting is for the neighbourhood)."""
    newcomer: Chat = make_chat("nina", lang="en")
    [asked] = await newcomer.say("/wijkbudget")
    assert "Which neighbourhood do you live in?" in asked.text
    await newcomer.press("Schalkwijk")
    [supported] = await newcomer.press("Support 2")
    assert "You now support 2" in supported.text


# -- absurd data ----------------------------------------------------------------------------

ABSURD_NUMBERS = ["-1", str(MAX_ID + 1), "99999999999999999999", "x", "", "1.0", "１", " 1", "99"]


def absurd_presses(w: World) -> list[str]:
    out = ["", ":", "::", "nope", "nope:1", "pv", "pv:", "sigview:", "@", "@|", "cancel:1"]
    for value in ABSURD_NUMBERS:
        out.append(f"pv:{w.poll}:{value}")  # an option that is not there
    for value in [*ABSURD_NUMBERS, "0", "12345"]:  # ids of nothing
        out += [
            f"pv:{value}:0", f"pr:{value}", f"poll:{value}",
            f"pc:{value}", f"pc:{value}:yes", f"sigview:{value}", f"sigview:{value}:follow",
            f"sig:{value}:open", f"tri:{value}:close", f"ans:{value}", f"solved:{value}:no",
            f"bvo:{value}", f"bud:sup:{value}", f"bud:new:{value}", f"bro:{value}:show",
            f"bro:{w.round}:check:{value}", f"idea:support:{value}", f"theme:{value}:on",
            f"dg:{value}", f"grp:{value}", f"ev:yes:{value}", f"ev:no:{value}",
            f"evc:{value}", f"evc:{value}:yes",
            f"oh:{value}", f"oa:accept:{value}",
            f"oa:decline:{value}",
        ]  # fmt: skip
    out += [
        f"pv:{w.poll}:0:0", f"pv:{w.poll}:0:extra", f"pr:{w.poll}:x", f"sig:{w.signal}:delete",
        f"sigview:{w.signal}:unfollow", f"bud:del:{w.proposal}", f"bro:{w.round}:drop",
        f"idea:oppose:{w.idea}", "dg:weekly:on", "dg:bc", "dg:bc:maybe", f"theme:{w.local_theme}",
        f"solved:{w.signal}:maybe", f"tri:{w.signal}:delete", f"bvo:{w.voting_round}:1",
        f"oh:{w.idea}:time", f"oa:maybe:{w.idea}", "oa:accept",
    ]  # fmt: skip
    return out


async def test_absurd_data_gets_the_kind_answer_and_changes_nothing(world: World) -> None:
    w = world
    before = await snapshot(w.app)
    for data in absurd_presses(w):
        for who in (w.dirk, w.coco, w.anna):
            replies = await who.press_data(data)
            assert BROKEN not in said(replies), (data, said(replies))
            assert replies and all(r.text.strip() for r in replies), data
        # One look at every table per press of the three (not one per person: ~300 presses).
        after = await snapshot(w.app)
        if not data.startswith(("bvo:", "bud:new:", "dg:", "bro:new")):
            assert after == before, data
        before = after  # those may start a dialog or ask for a code: nothing is saved yet


button_text = st.one_of(
    st.text(max_size=40),
    st.builds(
        ":".join,
        st.lists(
            st.one_of(
                st.sampled_from(sorted(registered())),
                st.sampled_from(["on", "off", "yes", "no", "sup", "new", "follow", "support"]),
                st.integers(-(2**40), 2**40).map(str),
                st.text(max_size=6),
            ),
            min_size=1,
            max_size=5,
        ),
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.lists(button_text, min_size=1, max_size=3), who=st.sampled_from(["dirk", "coco"]))
async def test_random_button_data_never_breaks(world: World, data: list[str], who: str) -> None:
    chat = world.dirk if who == "dirk" else world.coco
    for pressed in data:
        replies = await chat.press_data(pressed)
        assert BROKEN not in said(replies), pressed


# -- deep links -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    ["peiling", "aankondiging", "meldingen", "budgetronde", "status", "peilingen", "koppel",
     "ontkoppel", "PEILING", "reports"],
)  # fmt: skip
async def test_a_start_link_cannot_reach_a_coordinator_command(world: World, payload: str) -> None:
    w = world
    before = await snapshot(w.app)
    replies = await w.dirk.say(f"/start {payload}")
    assert BROKEN not in said(replies), said(replies)
    assert COORDINATORS_ONLY in said(replies), said(replies)
    assert await snapshot(w.app) == before


async def test_a_start_link_still_opens_commands(world: World) -> None:
    [asked] = await world.coco.say("/start peiling")  # the group's "private chat" link
    assert "What do you want to ask" in asked.text
    [report] = await world.dirk.say("/start melding")
    assert "What is wrong" in report.text
