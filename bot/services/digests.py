"""Digests: one message per resident (daily or weekly) and per linked group (weekly).

What is in it: new ideas in the themes I follow in my neighbourhood, status changes of my
reports and of reports in my neighbourhood, polls closing soon that I have not voted in,
and — for residents who get no polls by message — results of polls closed since my last
digest. Each item has a button to act on it. Nothing new: nothing is sent.

A run loads every item once and the follows and memberships of all due residents in a few
set-based queries (storage/repo/digests.py), then assembles each digest in Python: the
number of queries does not grow with the number of residents.

Once per period: a run first stamps `last_digest_at` on the residents it serves (a claim);
a resident is due when their last digest is older than the latest scheduled time (`slot`),
so a second run for the same time finds them no longer due, and a digest sent late after
downtime does not make the next one skip. The digests and the stamps are written in one
transaction, so a crash sends nothing and loses nothing.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cache, partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.events import Button
from bot.core.i18n import _, current_locale, ngettext, number, use_locale, when
from bot.delivery.broadcast import button_rows
from bot.delivery.scheduler import Job
from bot.services.ideas import SupportIdea, idea_ref
from bot.services.signals.notices import ViewSignal, status_label
from storage.db import Database
from storage.models import Theme
from storage.repo import digests as repo
from storage.repo import outbox
from storage.repo.digests import Due, Group, IdeaRow, PollRow, Resident, SignalRow

PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
DIGEST_TIME = time(19, 0)  # Europe/Amsterdam; Mondays for weekly digests
_AT = f"{DIGEST_TIME.minute} {DIGEST_TIME.hour}"
CRON = {"daily": f"{_AT} * * *", "weekly": f"{_AT} * * mon"}
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SLOT_SKEW = timedelta(minutes=1)
SOON = timedelta(days=2)  # "closes soon"
MAX_ITEMS = 5  # per section; the rest is counted
MAX_TITLE = 80


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


@dataclass
class Digest:
    ideas: list[IdeaRow] = field(default_factory=list)
    more_ideas: int = 0
    my_signals: list[SignalRow] = field(default_factory=list)
    hood_signals: list[SignalRow] = field(default_factory=list)
    more_signals: int = 0
    closing: list[PollRow] = field(default_factory=list)
    results: list[PollRow] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.ideas or self.my_signals or self.hood_signals or self.closing or self.results
        )


def slot(cadence: str, now: datetime) -> datetime:
    """The latest scheduled digest time (19:00 Amsterdam, Mondays for weekly) at `now`.

    A run that fires a little early (clock skew) still counts for the time it fired for.
    """
    local = (now + SLOT_SKEW).astimezone(AMSTERDAM)
    day = local.date()
    if cadence == "weekly":
        day -= timedelta(days=local.weekday())
    if datetime.combine(day, DIGEST_TIME, tzinfo=AMSTERDAM) > local:
        day -= PERIODS[cadence]  # by the calendar: 19:00 stays 19:00 across DST
    return datetime.combine(day, DIGEST_TIME, tzinfo=AMSTERDAM).astimezone(UTC)


def due_before(cadence: str, now: datetime) -> datetime:
    """Due: whose last digest is older than this (the latest scheduled time, less the skew
    an early run may have stamped)."""
    return slot(cadence, now) - SLOT_SKEW


def since_of(last: datetime | None, now: datetime, period: timedelta) -> datetime:
    """From the last digest; never further back than two periods (after a long pause)."""
    return max(last or now - period, now - 2 * period)


class Items:
    """Everything new in a run, indexed so each digest is a few lookups, not a scan."""

    def __init__(
        self, ideas: list[IdeaRow], signals: list[SignalRow], polls: list[PollRow],
        themes: dict[int, Theme],
    ) -> None:  # fmt: skip
        self.themes = themes
        self.ideas: dict[tuple[int, int | None], list[IdeaRow]] = defaultdict(list)
        self.ideas_in: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
        self.authored: dict[int, list[IdeaRow]] = defaultdict(list)
        for idea in ideas:  # oldest first
            key = (idea.neighbourhood_id, idea.theme_id)
            if key not in self.ideas:
                self.ideas_in[idea.neighbourhood_id].append(key)
            self.ideas[key].append(idea)
            if idea.author_id is not None:
                self.authored[idea.author_id].append(idea)
        self.idea_times = {k: [i.created_at for i in v] for k, v in self.ideas.items()}
        self.signals: dict[int, list[SignalRow]] = defaultdict(list)
        self.signal = {s.id: s for s in signals}
        self.reported: dict[int, list[int]] = defaultdict(list)
        self.changed_by: dict[int, set[int]] = defaultdict(set)
        for sig in signals:  # by last change
            self.signals[sig.neighbourhood_id].append(sig)
            if sig.reporter_id is not None:
                self.reported[sig.reporter_id].append(sig.id)
            for _at, by in sig.changes:
                if by is not None:
                    self.changed_by[by].add(sig.id)
        self.signal_times = {h: [s.last_change for s in v] for h, v in self.signals.items()}
        self.closing = [p for p in polls if p.closed_at is None]
        self.results = [p for p in polls if p.closed_at is not None]

    # -- ideas --

    def idea_keys(self, hoods: set[int], themes: set[int]) -> list[tuple[int, int | None]]:
        """Ideas without a theme in my neighbourhoods, and those in themes I follow there
        (a local theme of another neighbourhood too). Following nothing: all of them."""
        if not themes:
            return [k for h in hoods for k in self.ideas_in.get(h, ())]
        keys: list[tuple[int, int | None]] = [(h, None) for h in hoods]
        for tid in themes:
            theme = self.themes.get(tid)
            if theme is None:
                continue
            if theme.neighbourhood_id is None:
                keys += [(h, tid) for h in hoods]
            else:
                keys.append((theme.neighbourhood_id, tid))
        return [k for k in keys if k in self.ideas]

    def new_ideas(
        self, keys: list[tuple[int, int | None]], since: datetime, me: int | None
    ) -> tuple[list[IdeaRow], int]:
        """The newest few ideas after `since` (not my own) and how many more there are."""
        tails: list[Iterator[IdeaRow]] = []
        total = 0
        for key in keys:
            start = bisect_right(self.idea_times[key], since)
            ideas = self.ideas[key]
            total += len(ideas) - start
            tails.append(reversed(ideas[start:]) if start < len(ideas) else iter(()))
        if me is not None:
            keyset = set(keys)
            total -= sum(
                1
                for i in self.authored.get(me, ())
                if i.created_at > since and (i.neighbourhood_id, i.theme_id) in keyset
            )
        newest = _take(
            (i for i in _newest_first(tails, lambda i: (i.created_at, i.id)) if i.author_id != me),
            MAX_ITEMS,
        )
        return newest, total - len(newest)

    # -- signals --

    def my_signals(self, me: int, following: Iterable[int], since: datetime) -> list[SignalRow]:
        mine = {*self.reported.get(me, ()), *following}
        found = [self.signal[s] for s in mine if s in self.signal]
        return sorted(
            (s for s in found if s.changed_for(me, since)), key=lambda s: (s.last_change, s.id)
        )[-MAX_ITEMS:]

    def hood_signals(
        self, hoods: set[int], since: datetime, me: int | None, skip: set[int]
    ) -> tuple[list[SignalRow], int]:
        """Reports in my neighbourhoods changed after `since` by others (not those in `skip`)."""
        tails: list[Iterator[SignalRow]] = []
        total = 0
        for h in hoods:
            sigs = self.signals.get(h, [])
            start = bisect_right(self.signal_times.get(h, []), since)
            total += len(sigs) - start
            tails.append(reversed(sigs[start:]))
        left_out = skip | (self.changed_by.get(me, set()) if me is not None else set())
        for sid in left_out:
            s = self.signal.get(sid)
            if (
                s is not None
                and s.neighbourhood_id in hoods
                and s.last_change > since
                and (sid in skip or not s.changed_for(me, since))
            ):
                total -= 1
        newest = _take(
            (
                s
                for s in _newest_first(tails, lambda s: (s.last_change, s.id))
                if s.id not in skip and s.changed_for(me, since)
            ),
            MAX_ITEMS,
        )
        return newest, total - len(newest)

    # -- polls --

    def closing_for(
        self, hoods: set[int], themes: set[int] | None, since: datetime, voted: set[int]
    ) -> list[PollRow]:
        """Polls out to me that close soon, not voted in, and not in a digest before."""
        return [
            p
            for p in self.closing
            if _reaches(p, hoods, themes)
            and p.id not in voted
            # not in an earlier digest: it closed later than that one looked ahead, or it
            # was sent after it
            and (p.closes_at > since + SOON or (p.sent_at is not None and p.sent_at > since))
        ][:MAX_ITEMS]

    def results_for(self, hoods: set[int], themes: set[int], since: datetime) -> list[PollRow]:
        return [
            p
            for p in self.results
            if _reaches(p, hoods, themes) and p.closed_at is not None and p.closed_at > since
        ][:MAX_ITEMS]


def _reaches(poll: PollRow, hoods: set[int], themes: set[int] | None) -> bool:
    """A neighbourhood poll reaches its residents; a theme poll those following the theme.

    For a group `themes` is its one theme (or None: a neighbourhood group gets no theme polls).
    """
    if poll.neighbourhood_id not in hoods:
        return False
    if poll.theme_id is None:
        return True
    return themes is not None and poll.theme_id in themes


def _newest_first(tails: list[Iterator[Any]], key: Any) -> Iterator[Any]:
    return heapq.merge(*tails, key=key, reverse=True)


def _take(items: Iterable[Any], n: int) -> list[Any]:
    out = []
    for item in items:
        out.append(item)
        if len(out) == n:
            break
    return out


def resident_digest(
    items: Items, r: Resident, since: datetime, hoods: set[int], themes: set[int],
    following: set[int], voted: set[int],
) -> Digest:  # fmt: skip
    me = r.person_id
    d = Digest()
    d.ideas, d.more_ideas = items.new_ideas(items.idea_keys(hoods, themes), since, me)
    d.my_signals = items.my_signals(me, following, since)
    mine = {*items.reported.get(me, ()), *following}
    d.hood_signals, d.more_signals = items.hood_signals(hoods, since, me, mine)
    d.closing = items.closing_for(hoods, themes, since, voted)
    if not r.broadcasts:  # the others got the results by message when the poll closed
        d.results = items.results_for(hoods, themes, since)
    return d


def group_digest(items: Items, g: Group, since: datetime) -> Digest:
    hoods = {g.neighbourhood_id}
    themes = {g.theme_id} if g.theme_id is not None else None
    keys = [(g.neighbourhood_id, g.theme_id)] if g.theme_id else items.idea_keys(hoods, set())
    d = Digest()
    d.ideas, d.more_ideas = items.new_ideas([k for k in keys if k in items.ideas], since, None)
    d.hood_signals, d.more_signals = items.hood_signals(hoods, since, None, set())
    d.closing = items.closing_for(hoods, themes, since, set())
    return d


# --- Rendering (in the current locale) --------------------------------------------------------


def render(
    d: Digest, heading: str, themes: dict[int, Theme], footer: str = ""
) -> tuple[str, list[Button]]:
    lines = [heading]
    buttons: list[Button] = []
    if d.ideas:
        lines += ["", _("New ideas:")]
        for idea in d.ideas:
            ref = idea_ref(idea.id)
            theme = themes.get(idea.theme_id) if idea.theme_id is not None else None
            about = f" ({theme.name_in(current_locale())})" if theme is not None else ""
            lines.append(
                f"• {ref} {short(idea.title, MAX_TITLE)}{about} – "
                + ngettext("{n} supporter", "{n} supporters", idea.supporters).format(
                    n=count(idea.supporters)
                )
            )
            buttons.append(
                Button(_("Support {ref}").format(ref=ref), SupportIdea.button_data(idea.id))
            )
        if d.more_ideas:
            lines.append(
                ngettext(
                    "And {n} more new idea. Type /ideeen to see the newest.",
                    "And {n} more new ideas. Type /ideeen to see the newest.",
                    d.more_ideas,
                ).format(n=count(d.more_ideas))
            )
    if d.my_signals:
        lines += ["", _("News about your reports:")]
        lines += [_signal_line(s) for s in d.my_signals]
        buttons += [_signal_button(s) for s in d.my_signals]
    if d.hood_signals:
        lines += ["", _("Reports in the neighbourhood:")]
        lines += [_signal_line(s) for s in d.hood_signals]
        buttons += [_signal_button(s) for s in d.hood_signals]
        if d.more_signals:
            lines.append(
                ngettext("And {n} more report.", "And {n} more reports.", d.more_signals).format(
                    n=count(d.more_signals)
                )
            )
    if d.closing:
        lines += ["", _("Polls that close soon:")]
        for p in d.closing:
            lines.append(
                "• "
                + _("“{question}” closes on {moment}.").format(
                    question=short(p.question, MAX_TITLE), moment=when(p.closes_at)
                )
            )
            buttons.append(
                Button(_("Vote: {question}").format(question=short(p.question, 30)), f"poll:{p.id}")
            )
    if d.results:
        lines += ["", _("Poll results:")]
        for p in d.results:
            lines.append("• " + _result_line(p))
            buttons.append(
                Button(
                    _("Results: {question}").format(question=short(p.question, 30)), f"poll:{p.id}"
                )
            )
    if footer:
        lines += ["", footer]
    return "\n".join(lines), buttons


def _signal_line(s: SignalRow) -> str:
    ref = signal_ref(s.id)
    head = (
        _("{ref} is new").format(ref=ref)
        if s.status == "new"
        else _("{ref} is now: {status}").format(ref=ref, status=status_label(s.status))
    )
    return f"• {head} – {short(s.text, 60)}"


def _signal_button(s: SignalRow) -> Button:
    return Button(_("Open {ref}").format(ref=signal_ref(s.id)), ViewSignal(s.id or 0).pack())


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


def _row(
    platform: str, chat_id: str, kind: str, text: str, buttons: list[Button], now: datetime
) -> dict[str, Any]:
    """A digest as an outbox row: each item's button on its own line."""
    return outbox.new_row(
        platform, chat_id, kind, text, button_rows([[b] for b in buttons]), None, now
    )


# --- A run --------------------------------------------------------------------------------------


async def queue_digests(  # noqa: C901 -- to be split with the digests module
    session: AsyncSession, now: datetime, cadence: str, *, group_locale: str = "nl",
    force: bool = False,
) -> int:  # fmt: skip
    """Write this period's digests into the outbox; the number of messages written.

    `force` (the console's `:jobs`) serves everyone on `cadence`, due or not; each still
    hears only what is new since their last digest.
    """
    period = PERIODS[cadence]
    due = Due(cadence, due_before(cadence, now), force)
    groups_before = due_before("weekly", now)
    residents = await repo.due_residents(session, due)
    groups = await repo.due_groups(session, groups_before, force) if cadence == "weekly" else []
    if not residents and not groups:
        return 0
    lasts = [r.last_digest_at for r in residents] + [g.last_digest_at for g in groups]
    window = min(since_of(last, now, period) for last in lasts)
    polls = await repo.polls(session, now, now + SOON, window)
    items = Items(
        await repo.new_ideas(session, window),
        await repo.changed_signals(session, window),
        polls,
        await repo.themes(session),
    )
    rows: list[dict[str, Any]] = []
    if residents:
        hoods: dict[int, set[int]] = defaultdict(set)
        for pid, hood in await repo.memberships(session, due):
            hoods[pid].add(hood)
        themes: dict[int, set[int]] = defaultdict(set)
        for pid, tid in await repo.follows(session, due):
            themes[pid].add(tid)
        following: dict[int, set[int]] = defaultdict(set)
        for pid, sid in await repo.signal_followers(session, due, window):
            following[pid].add(sid)
        voted: dict[int, set[int]] = defaultdict(set)
        for pid, poll_id in await repo.votes_of_due(session, due, [p.id for p in items.closing]):
            voted[pid].add(poll_id)
        claimed = await repo.claim_residents(session, due, now)
        for r in residents:
            if r.person_id not in claimed:
                continue  # another run got there first
            since = since_of(r.last_digest_at, now, period)
            d = resident_digest(
                items, r, since, hoods[r.person_id], themes[r.person_id],
                following[r.person_id], voted[r.person_id],
            )  # fmt: skip
            if d.empty:
                continue
            with use_locale(r.locale):
                footer = _("Get this more or less often: /overzicht")
                text, buttons = render(d, heading_for(cadence), items.themes, footer)
            rows.append(_row(r.platform, r.chat_id, "direct", text, buttons, now))
    if groups:
        names = await repo.neighbourhood_names(session)
        claimed_groups = await repo.claim_groups(session, groups_before, force, now)
        for g in groups:
            if g.channel_id not in claimed_groups:
                continue
            d = group_digest(items, g, since_of(g.last_digest_at, now, PERIODS["weekly"]))
            if d.empty:
                continue
            with use_locale(group_locale):
                name = names.get(g.neighbourhood_id, "")
                theme = items.themes.get(g.theme_id) if g.theme_id is not None else None
                if theme is not None:
                    name = f"{name}, {theme.name_in(group_locale)}"
                text, buttons = render(d, _("This week in {name}").format(name=name), items.themes)
            rows.append(_row(g.platform, g.chat_id, "group", text, buttons, now))
    await outbox.enqueue_many(session, rows)
    return len(rows)


async def send_digests(
    db: Database, clock: Clock, cadence: str, *, group_locale: str = "nl", force: bool = False
) -> int:
    async with db.transaction() as session:
        return await queue_digests(
            session, clock.now(), cadence, group_locale=group_locale, force=force
        )


def digest_jobs(db: Database, clock: Clock, group_locale: str) -> list[Job]:
    """Daily and weekly digests at 19:00 Amsterdam time; `:jobs` serves everyone at once."""
    return [
        Job(
            f"digest-{cadence}",
            PERIODS[cadence],
            partial(send_digests, db, clock, cadence, group_locale=group_locale, force=True),
            cron=CRON[cadence],
            on_schedule=partial(send_digests, db, clock, cadence, group_locale=group_locale),
        )
        for cadence in ("daily", "weekly")
    ]
