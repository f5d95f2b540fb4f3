"""A municipality's system that repeats the API key in its error: the key reaches neither
the coordinators' chat, nor the database, nor the log."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from sqlmodel import select

from bot.app import App
from storage.models import SignalForward
from tests.privacy.conftest import everything_logged
from tests.signals.forwarding.test_scripted_sessions import _configure, _report_and_follow
from tests.standins.open311 import Open311StandIn
from tests.support.fake import FakeAdapter, MakeChat

OLD_KEY = "oude-sleutel-7f3a9c2e41"


class EchoingOpen311(Open311StandIn):
    """Like many real servers, it names the key it refuses."""

    def validate(self, form: dict[str, str]) -> web.Response | None:
        if form.get("api_key") != self.api_key:
            given = form.get("api_key")
            return web.json_response(
                [{"code": 403, "description": f"Invalid api_key: {given}"}], status=403
            )
        return super().validate(form)


async def test_a_refused_key_is_not_repeated(
    app: App,
    adapter: FakeAdapter,
    make_chat: MakeChat,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("HAARLEM_OPEN311_KEY", OLD_KEY)  # the municipality has a new one
    async with EchoingOpen311(api_key="nieuwe-sleutel", hang_seconds=2) as open311:
        await _configure(app, tmp_path, {
            "kind": "open311", "base_url": open311.base_url, "api_key_env": "HAARLEM_OPEN311_KEY",
            "service_codes": {"lighting": "VL-01", "other": "OV-99"},
        })  # fmt: skip
        await _report_and_follow(make_chat)
        assert await app.forwarding.send_due() == 0
        await app.flush_outbox()
    told = [m.text for m in adapter.in_chat("dm:coco") if "M-1001" in m.text][-1]
    assert "inlog" in told  # the coordinator still learns why, in plain words
    assert OLD_KEY not in told
    async with app.db.session() as s:
        fwd = (await s.exec(select(SignalForward))).one()
    assert fwd.failed and fwd.last_error and OLD_KEY not in fwd.last_error
    assert "Invalid api_key" in fwd.last_error  # the server's words are kept, redacted
    logged = everything_logged(debug_logs)
    assert "M-1001" in logged and "forwarding" in logged  # the operator sees it failed
    assert OLD_KEY not in logged
