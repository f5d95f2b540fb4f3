"""A digest as text and buttons, in the current locale."""

from __future__ import annotations

from datetime import datetime
from functools import cache, lru_cache

from bot.core.events import Button, store_keyboard
from bot.core.i18n import _, current_locale, ngettext, number, use_locale, when
from bot.services.digests.items import Digest
from bot.services.ideas import SupportIdea, idea_ref
from bot.services.offers import help_button
from bot.services.polls import ShowPoll
from bot.services.signals.notices import ViewSignal, status_label
from storage.models import Theme
from storage.repo.digest_network import InitiativeRow
from storage.repo.digests import IdeaRow, PollRow, SignalRow
from storage.repo.outbox_bulk import encode

MAX_TITLE = 80
ITEMS_KEPT = 8192  # lines and buttons of items, per language


@cache
def _number_in(locale: str, n: int) -> str:
    with use_locale(locale):
        return number(n)


def count(n: int) -> str:
    """`number()`, remembered: a run formats the same few counts thousands of times."""
    return _number_in(current_locale(), n)


def signal_ref(signal_id: int) -> str:
    return f"M-{1000 + signal_id}"


def short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render(
    d: Digest, heading: str, themes: dict[int, Theme], footer: str = ""
) -> tuple[str, list[Button]]:
    lines = [heading]
    buttons: list[Button] = []
    if d.ideas:
        lines += ["", _("New ideas:")]
        locale = current_locale()
        for idea in d.ideas:
            theme = themes.get(idea.theme_id) if idea.theme_id is not None else None
            about = f" ({theme.name_in(locale)})" if theme is not None else ""
            line, support, helper = _idea_item(locale, idea, about)
            lines.append(line)
            buttons += (support, helper)
        if d.more_ideas:
            lines.append(
                ngettext(
                    "And {n} more new idea. Type /ideeen to see the newest.",
                    "And {n} more new ideas. Type /ideeen to see the newest.",
                    d.more_ideas,
                ).format(n=count(d.more_ideas))
            )
    buttons += _matchmaking(d, lines, themes, {b.data for b in buttons})
    lines += _initiative_lines(d)
    if d.my_signals:
        _signals(_("News about your reports:"), d.my_signals, lines, buttons)
    if d.hood_signals:
        _signals(_("Reports in the neighbourhood:"), d.hood_signals, lines, buttons)
        if d.more_signals:
            lines.append(
                ngettext("And {n} more report.", "And {n} more reports.", d.more_signals).format(
                    n=count(d.more_signals)
                )
            )
    if d.closing:
        lines += ["", _("Polls that close soon:")]
        for p in d.closing:
            line, button = _closing_item(current_locale(), p.id, p.question, p.closes_at)
            lines.append(line)
            buttons.append(button)
    if d.results:
        lines += ["", _("Poll results:")]
        for p in d.results:
            lines.append("• " + _result_line(p))
            buttons.append(
                Button(
                    _("Results: {question}").format(question=short(p.question, 30)),
                    ShowPoll(p.id).pack(),
                )
            )
    if footer:
        lines += ["", footer]
    return "\n".join(lines), buttons


def _signals(
    heading: str, signals: list[SignalRow], lines: list[str], buttons: list[Button]
) -> None:
    lines += ["", heading]
    for s in signals:
        line, button = _signal_item(current_locale(), s.id, s.status, s.text)
        lines.append(line)
        buttons.append(button)


# A run shows the same few items to thousands: each item's line and buttons are made once per
# language. The keys hold everything the text is made of, so a changed item is made anew.


@lru_cache(maxsize=ITEMS_KEPT)
def _idea_item(locale: str, idea: IdeaRow, about: str) -> tuple[str, Button, Button]:
    with use_locale(locale):
        ref = idea_ref(idea.id)
        line = f"• {ref} {short(idea.title, MAX_TITLE)}{about} – " + ngettext(
            "{n} supporter", "{n} supporters", idea.supporters
        ).format(n=count(idea.supporters))
        support = Button(_("Support {ref}").format(ref=ref), SupportIdea.button_data(idea.id))
        return line, support, help_button(idea.id)


@lru_cache(maxsize=ITEMS_KEPT)
def _signal_item(locale: str, signal_id: int, status: str, text: str) -> tuple[str, Button]:
    with use_locale(locale):
        ref = signal_ref(signal_id)
        head = (
            _("{ref} is new").format(ref=ref)
            if status == "new"
            else _("{ref} is now: {status}").format(ref=ref, status=status_label(status))
        )
        button = Button(_("Open {ref}").format(ref=ref), ViewSignal(signal_id).pack())
        return f"• {head} – {short(text, 60)}", button


@lru_cache(maxsize=ITEMS_KEPT)
def _closing_item(
    locale: str, poll_id: int, question: str, closes_at: datetime
) -> tuple[str, Button]:
    with use_locale(locale):
        line = "• " + _("“{question}” closes on {moment}.").format(
            question=short(question, MAX_TITLE), moment=when(closes_at)
        )
        label = _("Vote: {question}").format(question=short(question, 30))
        return line, Button(label, ShowPoll(poll_id).pack())


@lru_cache(maxsize=ITEMS_KEPT)
def _help_button(locale: str, idea_id: int) -> Button:
    with use_locale(locale):
        return help_button(idea_id)


def _matchmaking(
    d: Digest, lines: list[str], themes: dict[int, Theme], shown: set[str]
) -> list[Button]:
    """Who wants to help with my themes (a count, never names), and ideas that still need
    helpers, each with an "I'll help" button unless the idea has one above already."""
    if not (d.helpers or d.seeking):
        return []
    lines.append("")
    for h in d.helpers:
        theme = themes.get(h.theme_id)
        lines.append(
            ngettext(
                "{n} neighbour wants to help with {theme}: see {refs}",
                "{n} neighbours want to help with {theme}: see {refs}",
                h.people,
            ).format(
                n=count(h.people),
                theme=theme.name_in(current_locale()) if theme is not None else "?",
                refs=", ".join(idea_ref(i) for i in h.idea_ids),
            )
        )
    if d.seeking:
        refs = ", ".join(idea_ref(i) for i in d.seeking)
        lines.append(_("Ideas that still need helpers: {refs}").format(refs=refs))
    buttons = [_help_button(current_locale(), i) for i in d.seeking]
    return [b for b in buttons if b.data not in shown]


def _initiative_lines(d: Digest) -> list[str]:
    if not d.initiatives:
        return []
    return ["", _("Initiatives:")] + [
        "• " + _initiative_line(i, i.idea_id in d.supported) for i in d.initiatives
    ]


def _initiative_line(i: InitiativeRow, supported: bool) -> str:
    """“I-3 “…” is now an initiative, team of 2”, or done with what they did; the team is a
    number, never names."""
    ref, title = idea_ref(i.idea_id), short(i.title, MAX_TITLE)
    if i.status != "done":
        return _("{ref} “{title}” is now an initiative, team of {n}").format(
            ref=ref, title=title, n=count(i.team)
        )
    first = (
        _("You supported {ref} “{title}”: it happened!")
        if supported
        else _("{ref} “{title}” is done.")
    ).format(ref=ref, title=title)
    return first + " " + _("What we did: {what}").format(what=short(i.done_text, 200))


def _result_line(p: PollRow) -> str:
    question = short(p.question, MAX_TITLE)
    if not p.voters or not any(p.counts):
        return _("“{question}”: nobody voted.").format(question=question)
    top = max(range(len(p.counts)), key=lambda i: p.counts[i])
    return (
        _("“{question}”: most votes for “{option}”.").format(
            question=question, option=p.options[top]
        )
        + " "
        + ngettext("{n} person voted.", "{n} people voted.", p.voters).format(n=count(p.voters))
    )


def heading_for(cadence: str) -> str:
    return _("Your digest for today") if cadence == "daily" else _("Your digest for this week")


def keyboard(buttons: list[Button]) -> str:
    """A digest's buttons as stored (JSON): each item's button on its own line."""
    return encode(store_keyboard([[b] for b in buttons]))
