"""The console chat keeps the talk in order, even while the background sender is busy."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from bot.core.events import Document, Reply
from bot.ops.admin import add_console, grant_coordinator

SCRIPT = """\
/start
Nederlands
schalkwijk
Klaar
Er ligt glas op het fietspad
2
Spaarnwouderstraat
Overslaan
:as coco
/status M-1001 opgelost Het glas is opgeruimd
:as anna
/mijnmeldingen
"""


async def test_news_for_another_chat_is_printed_before_the_next_line(app: App) -> None:
    await grant_coordinator(app.settings, "console", "coco", "schalkwijk")
    out = io.StringIO()
    console = ConsoleAdapter(user="anna", stdin=io.StringIO(SCRIPT), stdout=out)
    add_console(app, console)
    # The background sender is in the middle of a pass while every line is handled.
    busy = app.outbox.queue("console").lock
    await busy.acquire()
    asyncio.get_running_loop().call_later(0.2, busy.release)

    await console.start(app.dispatcher.feed_for(console))

    text = out.getvalue()
    news = text.index("wijkbot → anna: Nieuws over je melding M-1001: die is nu opgelost.")
    assert text.index("coco> /status M-1001") < news < text.index("coco> :as anna")
    assert "opgelost – Er ligt glas op het fietspad" in text[news:]


def _saved(folder: Path, pattern: str = "*.png") -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in sorted(folder.glob(pattern))]


async def test_a_chart_is_saved_to_a_file_and_its_path_printed(tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsoleAdapter(user="anna", stdin=io.StringIO(""), stdout=out, files=tmp_path)
    png = b"\x89PNG\r\n\x1a\nchart"
    await console.send(console.chat, Reply(text="Results: Meer bankjes?", image=png))
    await console.send(console.chat, Reply(text="Another chart", image=png))
    printed = out.getvalue()
    saved = _saved(tmp_path)
    assert len(saved) == 2 and saved[0][1] == png
    assert str(saved[0][0]) in printed and str(saved[1][0]) in printed
    assert "Results: Meer bankjes?" in printed


async def test_a_document_is_saved_to_a_file_and_its_path_printed(tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsoleAdapter(user="anna", stdin=io.StringIO(""), stdout=out, files=tmp_path)
    reply = Reply(text="The ballots", document=Document("W-1.pb", b"META\n"))
    await console.send(console.chat, reply)
    [(path, data)] = _saved(tmp_path, "*.pb")
    assert data == b"META\n" and str(path) in out.getvalue()


GROUP_VOTE = """\
/start
Nederlands
schalkwijk
Klaar
:as coco
:group buurt
/koppel schalkwijk
:dm
/peiling Waar moet het nieuwe bankje komen? | Speeltuin | Plein
Versturen
:jobs
:as anna
:group buurt
2
"""


async def test_a_resident_votes_in_a_group_with_the_polls_buttons(app: App) -> None:
    await grant_coordinator(app.settings, "console", "coco", "schalkwijk")
    out = io.StringIO()
    console = ConsoleAdapter(user="anna", stdin=io.StringIO(GROUP_VOTE), stdout=out)
    add_console(app, console)
    await console.start(app.dispatcher.feed_for(console))
    text = out.getvalue()
    assert "wijkbot → buurt: 📊 Waar moet het nieuwe bankje komen?" in text
    assert (
        "Je stem op “Waar moet het nieuwe bankje komen?”: Plein." in text[text.index("anna> 2") :]
    )


POLL_ANSWERS = """\
:as coco
/peiling
Hoeveel bankjes?
1
Annuleer
"""


async def test_a_text_step_shows_its_buttons_without_numbers(app: App) -> None:
    """Where Wijkbot asks to type an answer, "1" is the answer: no button is numbered 1."""
    await grant_coordinator(app.settings, "console", "coco", "schalkwijk")
    out = io.StringIO()
    console = ConsoleAdapter(user="coco", stdin=io.StringIO(POLL_ANSWERS), stdout=out)
    add_console(app, console)
    await console.start(app.dispatcher.feed_for(console))
    text = out.getvalue()
    answers = text[text.index("coco> Hoeveel bankjes?") :]
    assert "[1]" not in answers and "- Annuleer" in answers
    assert "Typ antwoord 2" in text[text.index("coco> 1") :]
    assert "Gestopt" in text[text.index("coco> Annuleer") :]
