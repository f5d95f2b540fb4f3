"""Keep the catalogs in step with the code: extract, update, fill English, compile.

    python tools/i18n.py update    # after changing user-facing text
    python tools/i18n.py compile   # build the .mo files (the dev script does this)
    python tools/i18n.py check     # exit 1 if the template is stale or a message is untranslated

English is the source language: its catalog copies each msgid, so a missing English
message is a bug in this tool, not a translation to write.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "wijkbot.pot"
LANGS = ("nl", "en")
EXTRACT = [
    "-F", "babel.cfg", "-k", "_", "-k", "N_", "-k", "ngettext:1,2", "--no-location",
    "--sort-output", "--project=wijkbot", "--copyright-holder=Wijkbot contributors",
]  # fmt: skip


def pybabel(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", *args],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        sys.exit(done.stderr)


def po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "wijkbot.po"


def fill_english() -> None:
    path = po_path("en")
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for msg in catalog:
        if msg.id:
            msg.string = msg.id
            msg.flags.discard("fuzzy")
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False)


def update() -> None:
    pybabel("extract", *EXTRACT, "-o", str(POT), ".")
    for lang in LANGS:
        if po_path(lang).exists():
            pybabel("update", "-D", "wijkbot", "-i", str(POT), "-d", str(LOCALES), "-l", lang,
                    "--no-fuzzy-matching", "--ignore-obsolete")  # fmt: skip
        else:
            pybabel("init", "-D", "wijkbot", "-i", str(POT), "-d", str(LOCALES), "-l", lang)
    fill_english()


def compile_all() -> None:
    pybabel("compile", "-D", "wijkbot", "-d", str(LOCALES), "--statistics")


def problems() -> list[str]:
    found: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "fresh.pot"
        pybabel("extract", *EXTRACT, "-o", str(fresh), ".")
        with fresh.open("rb") as fh:
            wanted = {m.id for m in read_po(fh) if m.id}
    with POT.open("rb") as fh:
        have = {m.id for m in read_po(fh) if m.id}
    if wanted != have:
        found.append("locales/wijkbot.pot is stale: run python tools/i18n.py update")
    for lang in LANGS:
        with po_path(lang).open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        ids = {m.id for m in catalog if m.id}
        for missing in sorted(map(str, wanted - ids)):
            found.append(f"{lang}: missing {missing!r}")
        for msg in catalog:
            if not msg.id or msg.id not in wanted:
                continue
            strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
            if "fuzzy" in msg.flags or not all(strings):
                found.append(f"{lang}: untranslated {msg.id!r}")
    return found


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "check"
    if cmd == "update":
        update()
    elif cmd == "compile":
        compile_all()
    else:
        issues = problems()
        print("\n".join(issues) or "catalogs complete")
        sys.exit(1 if issues else 0)
