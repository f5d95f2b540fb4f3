"""No resident's words, names or notes in the log, at any level, even when something fails."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.ops.admin import grant_coordinator
from tests.privacy.conftest import MARK, everything_logged
from tests.support.fake import Chat, FakeAdapter, MakeChat

TEXT = f"Kapotte bank {MARK} bij de vijver"
ADDRESS = f"Vijverlaan {MARK} 12"
NOTE = f"Opgeruimd {MARK} door de buurtploeg"
NAME = f"Wubbo {MARK} Quintijn"
IDEA = f"Buurtbieb {MARK} in het speeltuinhuisje"


async def test_a_whole_conversation_leaves_no_words_in_the_log(
    app: App, make_chat: MakeChat, adapter: FakeAdapter, debug_logs: pytest.LogCaptureFixture
) -> None:
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    wubbo: Chat = make_chat(NAME, lang="en")
    await wubbo.say("/wijk")
    await wubbo.press("Schalkwijk")
    await wubbo.say("/melding")
    await wubbo.say(TEXT)
    await wubbo.say(ADDRESS)
    await wubbo.press("Skip")
    [done] = await wubbo.press("Street or pavement")
    assert "M-1001" in done.text
    await wubbo.say(f"/idee {IDEA}")
    await wubbo.press("Post")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    await coco.say("/meldingen")
    await coco.press("M-1001")
    await coco.press("Close, with a reason")
    await coco.say(NOTE)
    assert any(NOTE in m.text for m in adapter.in_chat(wubbo.chat.id))
    await app.run_jobs_now()
    assert MARK not in everything_logged(debug_logs)


async def test_a_failing_write_logs_the_failure_but_not_the_words(
    app: App, make_chat: MakeChat, db_url: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    """The database refuses the report (as a constraint or a bug would): the error is
    logged, but neither the SQL parameters nor PostgreSQL's 'Failing row contains (…)'."""
    async with app.db.engine.begin() as conn:
        if db_url.startswith("sqlite"):
            await conn.exec_driver_sql(
                f"CREATE TRIGGER refuse BEFORE INSERT ON signal WHEN instr(NEW.text, '{MARK}') > 0 "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            await conn.exec_driver_sql(
                f"ALTER TABLE signal ADD CONSTRAINT refuse CHECK (strpos(text, '{MARK}') = 0)"
            )
    wubbo: Chat = make_chat(NAME, lang="en")
    await wubbo.say("/wijk")
    await wubbo.press("Schalkwijk")
    await wubbo.say("/melding")
    await wubbo.say(TEXT)
    await wubbo.say(ADDRESS)
    await wubbo.press("Skip")
    [sorry] = await wubbo.press("Street or pavement")
    assert "something went wrong" in sorry.text
    logged = everything_logged(debug_logs)
    assert "handler failed" in logged and "refuse" in logged  # the operator sees what failed
    assert MARK not in logged


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("POST https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe",
         "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
        ("cannot connect to postgresql://wijkbot:Geheim!42@db.example/wijkbot", "Geheim!42"),
        ("GET /_matrix/client/v3/sync?access_token=abc123def456&since=s1", "abc123def456"),
        ("{'user_id': '@w:x', 'access_token': 'syt_d2lq_QxYzAbCdEfGh_1a2b3c'}", "syt_d2lq"),
        ('{"password": "hunter2-hunter2", "type": "m.login.password"}', "hunter2"),
        ("new row violates check constraint\nDETAIL:  Failing row contains (1, Kapotte bank).\n"
         "[SQL: INSERT INTO signal (text) VALUES (?)]", "Kapotte"),
    ],
)  # fmt: skip
def test_secret_shapes_are_hidden_even_when_not_remembered(line: str, secret: str) -> None:
    from bot.util.logs import redact

    hidden = redact(line)
    assert secret not in hidden and "<hidden>" in hidden
    assert "[SQL: INSERT" in hidden or "DETAIL" not in line  # the statement stays readable


def test_ordinary_lines_stay_readable() -> None:
    from bot.util.logs import redact

    for line in (
        "matrix: the access token is no longer valid; set a new one and restart",
        "job forward-send: 2",
        "forwarding M-1001 failed (attempt 1); retrying later",
        "telegram: running as @WijkbotTestBot",
    ):
        assert redact(line) == line
