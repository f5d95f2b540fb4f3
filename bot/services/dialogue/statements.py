"""What a resident writes as a statement: one short sentence, not one we already have."""

from __future__ import annotations

from bot.core.i18n import _
from bot.core.text import has_words
from bot.services.signals.similar import Known, likely_same
from storage.dialogue_models import Statement

MAX_STATEMENT = 140


def problem_with(text: str) -> str | None:
    """What is wrong with `text` as a statement, said kindly; None if it is fine."""
    if not has_words(text):
        return _("A statement needs words, not only symbols or emoji.")
    if "\n" in text:
        return _("Please write one sentence, on one line.")
    if len(text) > MAX_STATEMENT:
        return _(
            "That is {count} characters. A statement can have at most {limit}. "
            "Please make it shorter; here is your text to edit:"
        ).format(count=len(text), limit=MAX_STATEMENT)
    return None


def alike(text: str, existing: list[Statement]) -> Statement | None:
    """A statement already in the conversation that says much the same (the check reports
    use for duplicates, by words only)."""
    known = [Known(s.id, "other", s.text, None, None) for s in existing if s.id is not None]
    found = likely_same(text, None, None, None, None, known, limit=1)
    return next((s for s in existing if found and s.id == found[0].known.id), None)
