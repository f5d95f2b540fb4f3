"""Property-based: random input in every dialog state never escapes as an error,
and the store stays consistent (nothing half-saved)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.app import App
from bot.core.events import Attachment, ChatRef, Incoming, Location, UserRef
from bot.handlers import build_router
from storage.models import ConversationState, Idea, Signal, SignalUpdate
from tests.support.fake import FakeAdapter

ALL_STATES = sorted({key for r in build_router().walk() if r.kind == "state" for key in r.keys})
PLAUSIBLE_DATA = {
    "text": "Kapotte stoeptegel",
    "title": "Bankjes",
    "body": "",
    "theme_id": None,
    "neighbourhood_id": 1,
    "signal_id": 1,
    "status": "accepted",
    "locale": "en",
}
_users = itertools.count(1)

weird_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "", "   ", "🌳🌳🌳", "مرحبا بالجيران", "שלום", "<b>bold</b> & <script>x</script>",
            "*_[`~]_*", "1", "0", "99", "-3", "Annuleer", "Cancel", "ja", "\u202eevil", "a\x00b",
            "x" * 4001, "Schalkwijk", "/", "!", "/idee", "/status M-1001 opgelost",
        ]
    ),
)  # fmt: skip
button_data = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["cancel", "idea:support:1", "idea:support:x", "sig:1:resolved", "theme:999",
                     "theme:1", "@Nope.state|1", "@IdeaForm.confirm|yes", "@SignalForm.category|road"]),
)  # fmt: skip


@st.composite
def incoming(draw: st.DrawFn) -> tuple[str, object]:
    kind = draw(st.sampled_from(["text", "text", "button", "location", "photo", "command"]))
    if kind == "text":
        return kind, draw(weird_text)
    if kind == "button":
        return kind, draw(button_data)
    if kind == "location":
        return kind, (draw(st.floats(-90, 90)), draw(st.floats(-180, 180)))
    if kind == "photo":
        return kind, draw(st.text(min_size=1, max_size=20))
    return kind, (draw(st.from_regex(r"[a-z]{1,12}", fullmatch=True)), draw(st.text(max_size=40)))


def _event(user: UserRef, chat: ChatRef, kind: str, value: object) -> Incoming:
    if kind == "text":
        return Incoming("text", user, chat, text=str(value))
    if kind == "button":
        return Incoming("button", user, chat, button_data=str(value))
    if kind == "location":
        lat, lon = value  # type: ignore[misc]
        return Incoming("location", user, chat, location=Location(lat, lon))
    if kind == "photo":
        return Incoming("photo", user, chat, attachment=Attachment("photo", str(value), "fake"))
    name, args = value  # type: ignore[misc]
    return Incoming("command", user, chat, text=f"/{name} {args}", command=name, args=args)


@pytest.mark.parametrize("state", ALL_STATES)
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(inputs=st.lists(incoming(), min_size=1, max_size=4))
async def test_random_input_in_every_state(
    app: App, adapter: FakeAdapter, state: str, inputs: list[tuple[str, object]]
) -> None:
    uid = f"u{next(_users)}"
    user = UserRef("fake", uid, uid, "en")
    chat = ChatRef("fake", f"dm:{uid}", "direct")
    async with app.db.transaction() as s:
        s.add(ConversationState(platform="fake", chat_id=chat.id, user_id=uid, state=state,
                                data=dict(PLAUSIBLE_DATA)))  # fmt: skip
    for kind, value in inputs:
        before = len(adapter.log)
        await app.dispatcher.handle(adapter, _event(user, chat, kind, value))  # type: ignore[arg-type]
        for sent in adapter.log[before:]:
            assert "something went wrong" not in sent.text, (state, kind, value)
            assert sent.text.strip(), "every reply says something"

    async with app.db.session() as s:
        for sig in (await s.exec(select(Signal))).all():
            history = (
                await s.exec(select(SignalUpdate).where(SignalUpdate.signal_id == sig.id))
            ).all()
            assert history and history[0].status == "new"
            assert sig.text.strip()
        for idea in (await s.exec(select(Idea))).all():
            assert idea.title.strip() and len(idea.title) <= 200
        for row in (await s.exec(select(ConversationState))).all():
            assert row.state is None or row.state in ALL_STATES
