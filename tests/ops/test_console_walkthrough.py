"""The real path a new user takes: `wijkbot setup`, `wijkbot admin`, then a scripted
`wijkbot chat` session walking every resident and coordinator flow, in Dutch and English."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "tests" / "scripts"


def _today() -> int:
    """The day in Amsterdam now (the session's reports get the day it runs)."""
    # The console is the real app on the wall clock, so the expected day comes from it too.
    now = datetime.now(UTC)  # noqa: TID251
    return now.astimezone(ZoneInfo("Europe/Amsterdam")).day


EXPECTED = {
    "nl": [
        "Welke taal wil je gebruiken?",
        "Welkom in Schalkwijk!",
        "✓ Vergroening",
        "Dit idee is zichtbaar voor iedereen in Schalkwijk. Je naam wordt niet getoond.",
        "Je idee heeft nummer I-1.",
        "Je melding heeft nummer M-1001.",
        "Plek: Spaarnwouderstraat",
        "Je melding heeft nummer M-1002.",  # the one-off report without /start
        "Je idee heeft nummer I-2.",  # the one-off idea, neighbourhood asked
        "Je steunt nu I-1",
        "Je steunt I-1 al.",
        "wijkbot → anna: Nieuws over je melding M-1002: die is nu geaccepteerd.",
        "Toelichting van de coördinator: We komen dinsdag langs.",
        "wijkbot → anna: Nieuws over je melding M-1002: die is nu opgelost.",
        "Goed nieuws: 1 persoon steunt nu ook je idee I-1",
        "M-1002 ({today}",  # /mijnmeldingen shows the date (the console runs on real time) …
        "opgelost – Er ligt glas op het fietspad",
        "wijkbot → anna: 📊 Waar moet het nieuwe bankje komen?",
        "Je stem op “Waar moet het nieuwe bankje komen?”: Plein.",
        "wijkbot → anna: 📣 Plantjesmarkt op zaterdag, neem een tas mee!",
        "🗓 5 december, 14:00 · 📍 Kennemerplein",
        "Fijn, je komt naar",  # "Ik kom" typed: the button of the newest message
        "wijkbot → anna: [🖼 ",  # the results chart, saved as a file …
        "Uitslag: Waar moet het nieuwe bankje komen?",
        "• Plein: 1 (100%)",
        "Het commando /onzin ken ik niet.",
        "Je wijk: Schalkwijk",
        "Je gegevens zijn gewist.",
        "We bewaren niets over je.",
    ],
    "en": [
        "Which language do you prefer?",
        "Welcome to Schalkwijk!",
        "✓ Greening",
        "This idea will be visible to everyone in Schalkwijk. Your name is not shown.",
        "Your idea has number I-1.",
        "Your report has number M-1001.",
        "Place: Spaarnwouderstraat",
        "Your report has number M-1002.",
        "Your idea has number I-2.",
        "You now support I-1",
        "You already support I-1.",
        "wijkbot → anna: News about your report M-1002: it is now accepted.",
        "Note from the coordinator: We komen dinsdag langs.",
        "wijkbot → anna: News about your report M-1002: it is now solved.",
        "Good news: your idea I-1 “Geveltuintjes in de Rijksstraatweg” got 1 new supporter.",
        "solved – Er ligt glas op het fietspad",
        "wijkbot → anna: 📊 Where should the new bench go?",
        "Your vote on “Where should the new bench go?”: Square.",
        "wijkbot → anna: 📣 Plant market on Saturday, bring a bag!",
        "🗓 5 December, 14:00 · 📍 Kennemerplein",
        "Nice, you are coming to",
        "wijkbot → anna: [🖼 ",
        "Results: Where should the new bench go?",
        "• Square: 1 (100%)",
        "I don't know the command /onzin.",
        "Your neighbourhood: Schalkwijk",
        "Your data has been erased.",
        "We store nothing about you.",
    ],
}


def _wijkbot(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
        env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_scripted_console_session(db_url: str, tmp_path: Path, lang: str) -> None:
    env = {**os.environ, "WIJKBOT_DATA_DIR": str(tmp_path), "WIJKBOT_DATABASE_URL": db_url}
    env.pop("WIJKBOT_CONFIG", None)
    _wijkbot(env, "setup", "--file", str(ROOT / "wijkbot.example.toml"))
    granted = _wijkbot(
        env, "admin", "grant-coordinator", "--user", "coco", "--neighbourhood", "schalkwijk"
    )
    assert "coordinator of Schalkwijk" in granted
    first_day = _today()
    out = _wijkbot(env, "chat", "--as", "anna", "--lang", lang,
                   stdin=(SCRIPTS / f"walkthrough_{lang}.txt").read_text())  # fmt: skip
    days = {first_day, _today()}  # the session may run across midnight
    missing = [
        line for line in EXPECTED[lang]
        if not any(line.format(today=day) in out for day in days)
    ]  # fmt: skip
    assert not missing, f"missing {missing}\n--- transcript ---\n{out}"
    assert "something went wrong" not in out and "er ging iets mis" not in out.lower()
    charts = sorted((tmp_path / "console-files").glob("*.png"))
    assert charts and all(str(c) in out for c in charts)  # saved, and where it is printed
    assert charts[0].read_bytes().startswith(b"\x89PNG")
