"""What a conversation shows so far: the analysis of its votes, kept up to date by a job,
and the report people read in a chat (common ground, where opinions differ, the opinion map).

The analysis state (what Pol.is's k-smoothing and "once placed, stays placed" need between
runs) is kept in memory, per process: after a restart the first run starts afresh, which
only means a new number of groups is taken at once instead of after four runs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.i18n import _, current_locale, ngettext, number
from bot.services.dialogue.analysis import EMPTY, Analysis, analyse
from bot.util.charts import opinion_map
from storage.db import Database
from storage.dialogue_models import Conversation, Statement
from storage.repo import dialogue, places

log = logging.getLogger(__name__)

MIN_PLACED = 6  # fewer people on the map: no groups shown (too few to say, and too personal)
TOP = 3  # consensus statements, and representative statements per group


@dataclass(frozen=True)
class _State:
    marker: tuple[int, int, str]
    analysis: Analysis


_STATE: dict[int, _State] = {}
_REPORTS: dict[tuple[int, str], tuple[Analysis, object, Report]] = {}  # see standing()


def cached(conversation_id: int) -> Analysis | None:
    """The latest analysis the job (or a report) made in this process."""
    state = _STATE.get(conversation_id)
    return state.analysis if state is not None else None


def extremity(conversation_id: int) -> dict[int, float]:
    """Per statement how much it separates people (for the order of statements)."""
    found = cached(conversation_id)
    return {} if found is None else {int(k): v for k, v in found.extremity.items()}


async def analysis_of(session: AsyncSession, conv: Conversation) -> Analysis:
    """The analysis of the votes as they are now; recomputed only when votes moved."""
    assert conv.id is not None
    marker = await dialogue.vote_marker(session, conv.id)
    state = _STATE.get(conv.id)
    if state is not None and state.marker == marker:
        return state.analysis
    rows = await dialogue.all_votes(session, conv.id)
    out = {s.id for s in await dialogue.statements(session, conv.id, "rejected") if s.id}
    votes = [(r.person_id, r.statement_id, r.value) for r in rows]
    previous = state.analysis if state else None
    # Seconds for a big conversation: off the event loop, so chats keep being answered.
    result = await asyncio.to_thread(analyse, votes, out, previous) if votes else EMPTY
    _STATE[conv.id] = _State(marker, result)
    return result


async def recompute(db: Database, clock: Clock) -> int:
    """The scheduler job: each running conversation that got new votes, analysed again."""
    done = 0
    async with db.session() as session:
        for conv in await dialogue.running(session, clock.now()):
            before = cached(conv.id or 0)
            try:
                if await analysis_of(session, conv) is not before:
                    done += 1
            except Exception:  # one odd conversation does not stop the others
                log.exception("conversation %s: analysis failed", conv.id)
    return done


def forget(conversation_id: int | None = None) -> None:
    """Drop the kept state of one conversation (it ended), or of all (a test's new database)."""
    if conversation_id is None:
        _STATE.clear()
        _REPORTS.clear()
    else:
        _STATE.pop(conversation_id, None)
        for key in [k for k in _REPORTS if k[0] == conversation_id]:
            del _REPORTS[key]


@dataclass(frozen=True)
class Report:
    text: str
    chart: bytes | None


def group_name(g: int) -> str:
    return _("Group {letter}").format(letter=chr(ord("A") + g))


def _participation(totals: dialogue.Totals) -> str:
    return (
        ngettext("{n} person voted", "{n} people voted", totals.voters).format(
            n=number(totals.voters)
        )
        + ", "
        + ngettext("{n} vote", "{n} votes", totals.votes).format(n=number(totals.votes))
        + ", "
        + ngettext("{n} statement", "{n} statements", totals.statements).format(
            n=number(totals.statements)
        )
        + "."
    )


def _pct_line(pct: int, agree: bool, text: str) -> str:
    said = _("{pct}% agree") if agree else _("{pct}% disagree")
    return "• " + said.format(pct=pct) + f": “{text}”"


def _has_groups(a: Analysis) -> bool:
    return a.n_groups >= 2 and len(a.groups) >= MIN_PLACED


def render(
    conv: Conversation,
    a: Analysis,
    totals: dialogue.Totals,
    texts: dict[int, str],
    place: str,
) -> Report:
    """The report in the current language: text, and the map when there are groups."""
    lines = [_participation(totals), "", _("What unites {place}").format(place=place)]
    # Only what most people agree with is called common ground (a 33 % "best" is not).
    if _has_groups(a):
        common = [(int(c.statement), c.agree_pct) for c in a.consensus]
    else:  # no groups: by votes alone, the most agreed first
        ranked = sorted(
            (kv for kv in a.stats.items() if kv[1].seen),
            key=lambda kv: (-(kv[1].agree + 1) / (kv[1].seen + 2), int(kv[0])),
        )
        common = [(int(sid), round(100 * st.agree / st.seen)) for sid, st in ranked]
    common = [(sid, pct) for sid, pct in common if sid in texts and pct > 50][:TOP]
    lines += [_pct_line(pct, True, texts[sid]) for sid, pct in common]
    if not common:
        lines.append(_("Nothing yet that most people agree on.") if a.stats else _("No votes yet."))
    if not _has_groups(a):
        lines += ["", _("Too few people have voted yet to see groups of opinions.")]
        return Report("\n".join(lines), None)
    lines += ["", _("Where opinions differ")]
    for g in range(a.n_groups):
        size = a.group_sizes[g]
        lines.append(
            ngettext("{group} ({n} person):", "{group} ({n} people):", size).format(
                group=group_name(g), n=number(size)
            )
        )
        reps = [r for r in a.repness.get(g, ()) if int(r.statement) in texts][:TOP]
        lines += [_pct_line(r.pct, r.repful_for == "agree", texts[int(r.statement)]) for r in reps]
    points = [(x, y, a.groups.get(p)) for p, (x, y) in sorted(a.projection.items(), key=str)]
    chart = opinion_map(
        _("Opinion map: {question}").format(question=conv.question),
        points,
        [group_name(g) for g in range(a.n_groups)],
        _("Not placed yet"),
        number,
    )
    return Report("\n".join(lines), chart)


async def facts(
    session: AsyncSession, conv: Conversation
) -> tuple[dialogue.Totals, dict[int, str], str]:
    """What a report needs besides the analysis: the counts, the statements, the place."""
    assert conv.id is not None
    totals = await dialogue.totals(session, conv.id)
    shown: list[Statement] = await dialogue.statements(session, conv.id)
    hood = await places.neighbourhood(session, conv.neighbourhood_id)
    return totals, {s.id: s.text for s in shown if s.id is not None}, hood.name if hood else ""


async def standing(session: AsyncSession, conv: Conversation) -> Report:
    """The report so far ("how it stands"), in the current language.

    Drawing the map takes up to a second for 10,000 people: the last report per language
    is kept until the votes or the statements change."""
    assert conv.id is not None
    a = await analysis_of(session, conv)
    totals, texts, place = await facts(session, conv)
    key = (conv.id, current_locale())
    kept = _REPORTS.get(key)
    if kept is not None and kept[0] is a and kept[1] == (totals, texts):
        return kept[2]
    title = _("📊 How it stands: “{question}”").format(question=conv.question)
    got = await asyncio.to_thread(render, conv, a, totals, texts, place)  # the map: ~1 s
    report = Report(title + "\n\n" + got.text, got.chart)
    _REPORTS[key] = (a, (totals, texts), report)
    return report
