"""Keep the catalogs in step with the code: extract, update, fill English, compile.

    python tools/i18n.py update    # after changing user-facing text
    python tools/i18n.py compile   # build the .mo files (the dev script does this)
    python tools/i18n.py check     # exit 1 if the template is stale, a language of
                                   # bot.config.LANGUAGES has no catalog, a message is missing,
                                   # untranslated or fuzzy, lacks a plural form, a {placeholder}
                                   # or %(name)s differs from the msgid, or two translations
                                   # look glued together

English is the source language: its catalog copies each msgid, with the Dutch command
names in it swapped for the English ones (/stem -> /vote; both work), so a missing
English message is a bug in this tool, not a translation to write.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tempfile
from collections import Counter
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot.config import LANGUAGES  # noqa: E402  (the one list of languages)

LOCALES = ROOT / "locales"
POT = LOCALES / "wijkbot.pot"
LANGS = tuple(LANGUAGES)
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


@cache
def english_commands() -> dict[str, str]:
    """Dutch command name -> English one, from the bot's one list of commands."""
    from bot.handlers.help import MENU  # only this tool needs the bot, and only here

    return {e.name: e.english for e in MENU if e.english}


def in_english(text: str, names: dict[str, str]) -> str:
    """The English text of a message: its Dutch command names (/stem) become English (/vote)."""
    return _COMMAND_IN_TEXT.sub(lambda m: "/" + names.get(m.group(1), m.group(1)), text)


_COMMAND_IN_TEXT = re.compile(r"(?<![\w/])/([a-z]+)\b(?![-/])")


def fill_english() -> None:
    path = po_path("en")
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    names = english_commands()
    for msg in catalog:
        if isinstance(msg.id, tuple):  # ngettext: (singular, plural)
            msg.string = tuple(in_english(part, names) for part in msg.id)
        elif msg.id:
            msg.string = in_english(msg.id, names)
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
    """Build each .mo; one that would not change is left alone, a new one replaces it whole.

    A test run that is reading the catalogs (CI runs two side by side) never sees a file
    half written.
    """
    for lang in LANGS:
        po = LOCALES / lang / "LC_MESSAGES" / "wijkbot.po"
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang, domain="wijkbot")
        out = io.BytesIO()
        write_mo(out, catalog)
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.read_bytes() == out.getvalue():
            continue
        with tempfile.NamedTemporaryFile(dir=mo.parent, suffix=".tmp", delete=False) as tmp:
            tmp.write(out.getvalue())
        Path(tmp.name).replace(mo)


# {name} for str.format, %(name)s for %-formatting: the set in a translation must match the msgid.
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\(\w+\)[a-z]")
# A sentence that ends and the next one starts without a space: "tekens.Dat bericht".
GLUED = re.compile(r"[a-z)][.!?][A-Z]")


def _forms(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _message_problems(lang: str, msg: Message) -> list[str]:
    ids, strings = _forms(msg.id), _forms(msg.string)
    if not all(strings):
        return []  # reported as untranslated
    wanted = Counter[str]()
    for form in ids:
        wanted |= Counter(PLACEHOLDER.findall(form))
    found: list[str] = []
    have: set[str] = set()
    for text in strings:
        names = Counter(PLACEHOLDER.findall(text))
        have |= set(names)
        repeated = any(name in wanted for name in names - wanted)  # "{count}" twice
        if repeated or (GLUED.search(text) and not any(GLUED.search(i) for i in ids)):
            found.append(f"{lang}: looks like two messages glued together in {msg.id!r}: {text!r}")
            return found
    if have != set(wanted):
        missing, extra = sorted(set(wanted) - have), sorted(have - set(wanted))
        found.append(
            f"{lang}: placeholders differ in {msg.id!r}: missing {missing}, unknown {extra}"
        )
    return found


def translation_problems(
    lang: str, catalog: Catalog, wanted: set[object] | None = None
) -> list[str]:
    """Untranslated messages, placeholders that differ from the English, glued messages."""
    found: list[str] = []
    for msg in catalog:
        if not msg.id or (wanted is not None and msg.id not in wanted):
            continue
        strings = _forms(msg.string)
        if "fuzzy" in msg.flags or not strings or not all(strings):
            found.append(f"{lang}: untranslated {msg.id!r}")
            continue
        if isinstance(msg.id, tuple) and len(strings) != catalog.num_plurals:
            found.append(
                f"{lang}: {msg.id!r} needs {catalog.num_plurals} plural forms, has {len(strings)}"
            )
            continue
        found += _message_problems(lang, msg)
        if lang == "en" and strings != _english(msg.id):
            found.append(f"en: not the English of {msg.id!r}: run python tools/i18n.py update")
    return found


def problems() -> list[str]:
    found: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "fresh.pot"
        pybabel("extract", *EXTRACT, "-o", str(fresh), ".")
        with fresh.open("rb") as fh:
            wanted: set[object] = {m.id for m in read_po(fh) if m.id}
    with POT.open("rb") as fh:
        have = {m.id for m in read_po(fh) if m.id}
    if wanted != have:
        found.append("locales/wijkbot.pot is stale: run python tools/i18n.py update")
    for lang in LANGS:
        if not po_path(lang).is_file():
            found.append(f"{lang}: no catalog {po_path(lang).relative_to(ROOT)}")
            continue
        with po_path(lang).open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        ids = {m.id for m in catalog if m.id}
        for missing in sorted(map(str, wanted - ids)):
            found.append(f"{lang}: missing {missing!r}")
        found += translation_problems(lang, catalog, wanted)
    return found


def _english(msgid: str | tuple[str, ...]) -> tuple[str, ...]:
    names = english_commands()
    parts = msgid if isinstance(msgid, tuple) else (msgid,)
    return tuple(in_english(part, names) for part in parts)


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
