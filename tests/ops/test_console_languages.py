"""The whole console walk-through in every language beyond Dutch and English, with a hook
that notes each message falling back to English: there must be none."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.config import LANGUAGES
from bot.core.i18n import translations
from tests.ops.test_console_walkthrough import ROOT, SCRIPTS, _wijkbot

# Lines of the English script that are button labels, as the msgid and what it is filled with.
LABELS: dict[str, tuple[str, dict[str, str]]] = {
    "Done": ("Done", {}),
    "Greening": ("", {}),  # a theme: its name comes from the setup file
    "Post": ("Post", {}),
    "Street or pavement": ("Street or pavement", {}),
    "Skip": ("Skip", {}),
    "Support I-1": ("Support {ref}", {"ref": "I-1"}),
    "Send": ("Send", {}),
    "No photo": ("No photo", {}),
    "everyone in Schalkwijk": ("everyone in {name}", {"name": "Schalkwijk"}),
    "I'm coming": ("I'm coming", {}),
    "Close P-1 now": ("Close P-{id} now", {"id": "1"}),
    "Yes, close it now": ("Yes, close it now", {}),
    "Yes, erase my data": ("Yes, erase my data", {}),
}


def _script(lang: str) -> str:
    t = translations(lang).gettext
    lines = []
    for line in (SCRIPTS / "walkthrough_en.txt").read_text().splitlines():
        if line == "English":
            line = LANGUAGES[lang]
        elif line == "/taal en":
            line = f"/taal {lang}"
        elif line == "Accepted":
            line = t("accepted").capitalize()
        elif line == "Greening":
            line = "2"  # the second theme button
        elif line in LABELS:
            msgid, fill = LABELS[line]
            line = t(msgid).format(**fill)
        lines.append(line)
    return "\n".join(lines) + "\n"


# SQLite only: the database does not change which messages are shown, and the Dutch and
# English walk-throughs (test_console_walkthrough) run on both.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", [c for c in LANGUAGES if c not in ("nl", "en")])
def test_walkthrough_without_an_untranslated_message(
    db_url: str, tmp_path: Path, lang: str
) -> None:
    misses = tmp_path / "misses.txt"
    env = {**os.environ, "WIJKBOT_DATA_DIR": str(tmp_path), "WIJKBOT_DATABASE_URL": db_url,
           "WIJKBOT_I18N_MISSES": str(misses)}  # fmt: skip
    env.pop("WIJKBOT_CONFIG", None)
    _wijkbot(env, "setup", "--file", str(ROOT / "wijkbot.example.toml"))
    _wijkbot(env, "admin", "grant-coordinator", "--user", "coco", "--neighbourhood", "schalkwijk")
    out = _wijkbot(env, "chat", "--as", "anna", "--lang", lang, stdin=_script(lang))
    out = out.replace("\u2068", "").replace("\u2069", "")  # right-to-left isolation (ar)
    t = translations(lang).gettext
    for expected in (
        t(
            "Thank you! Your report has number {ref}. We will let you know what happens with it."
        ).format(ref="M-1001"),
        t(
            "Thank you! Your idea has number {ref}. Neighbours can now support it with /ideeen."
        ).format(ref="I-1"),
        t("Your data has been erased. Your ideas and reports stay, without your name. Goodbye!"),
        t("We store nothing about you. You have not shared anything with us yet."),
    ):
        assert expected in out, f"missing {expected!r}\n--- transcript ---\n{out}"
    missed = misses.read_text() if misses.exists() else ""
    assert missed == "", f"untranslated:\n{missed}\n--- transcript ---\n{out}"
    assert "Vergroening" not in out and "Greening" not in out  # theme names from setup, too
    assert "Traceback" not in out
