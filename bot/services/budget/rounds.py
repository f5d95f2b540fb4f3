"""Budget rounds over time: the sweep that opens and closes voting, counting and publishing.

The sweep runs every minute and after a restart: whatever is overdue happens at once. Each
round is opened or closed in its own transaction, together with the messages that announce
it (through the outbox), so a crash never publishes half a result or counts twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import SUPPORTED_LOCALES
from bot.core.clock import Clock
from bot.core.i18n import N_, _, ngettext, use_locale, when
from bot.delivery.broadcast import Target, broadcast, store_image
from bot.services.budget import results
from bot.services.budget.counting.election import Election
from bot.services.budget.counting.rules import count
from bot.services.budget.counting.tally_cli import natural_key
from bot.services.budget.sealing import BallotKeys
from bot.services.budget.text import euros
from bot.util.charts import bar_chart
from storage.db import Database
from storage.models import BudgetProject, BudgetRound
from storage.repo import ballots, budgets, places

log = logging.getLogger(__name__)

# Each counting rule: a plain name (on its button) and one line that explains it.
RULE_NAMES = {
    "greedy": N_("Most votes first"),
    "greedy-stop": N_("Most votes first, stop when full"),
    "mes": N_("Equal shares"),
    "mes-add1": N_("Equal shares, more of the budget"),
    "mes-add1-greedy": N_("Equal shares, then most votes"),
}
RULE_LABELS = {
    "greedy": N_(
        "the projects with the most votes are chosen one by one; "
        "a project that no longer fits the budget is skipped"
    ),
    "greedy-stop": N_(
        "the projects with the most votes are chosen one by one; "
        "counting stops at the first project that does not fit"
    ),
    "mes": N_("every voter gets an equal part of the budget and pays for the projects they chose"),
    "mes-add1": N_(
        "like Equal shares, but the parts are made bigger step by step, so more of the budget "
        "is used"
    ),
    "mes-add1-greedy": N_(
        "like Equal shares with bigger parts; what is left goes to the most votes first"
    ),
}


def rule_name(rule: str) -> str:
    """The plain name of a counting rule, with its technical name: "Equal shares (mes)"."""
    return f"{_(RULE_NAMES[rule])} ({rule})" if rule in RULE_NAMES else rule


def rule_text(rule: str) -> str:
    """The plain name and its one-line explanation: "Most votes first – the projects …"."""
    if rule not in RULE_NAMES:
        return rule
    return f"{_(RULE_NAMES[rule])} – {_(RULE_LABELS[rule])}"


VOTERS_CHOICES = {
    "codes": N_("Codes from letters"),
    "members": N_("Members (informal)"),
    "both": N_("Both"),
}


def voters_text(round_: BudgetRound) -> str:
    """Who may vote, said plainly (shown to coordinators, on the ballot and with results)."""
    if round_.voters == "codes":
        return _("residents with a code from their letter")
    if round_.voters == "members":
        return _(
            "everyone who chose this neighbourhood before voting opened (an informal vote: anyone can say they live here)"
        )
    return _(
        "residents with a code from their letter, and everyone who chose this neighbourhood before voting opened (partly informal: anyone can say they live here)"
    )


BALLOT_LABELS = {
    "knapsack": N_("a basket: choose projects that together fit the budget"),
    "approval": N_("choose a number of projects"),
    "cumulative": N_("divide points over projects"),
}


def ballot_rules(round_: BudgetRound) -> str:
    """The ballot rules in one sentence, in the current language."""
    if round_.ballot_type == "knapsack":
        return _("Choose projects that together cost at most {budget}.").format(
            budget=euros(round_.budget)
        )
    if round_.ballot_type == "approval":
        least, most = round_.min_projects, round_.max_projects
        if most is not None and most == least:
            return ngettext("Choose {n} project.", "Choose {n} projects.", most).format(n=most)
        if most is not None:
            return ngettext(
                "Choose at least {min} and at most {max} project.",
                "Choose at least {min} and at most {max} projects.",
                most,
            ).format(min=least, max=most)
        return ngettext(
            "Choose at least {min} project.", "Choose at least {min} projects.", least
        ).format(min=least)
    return _("Divide {points} over at least {projects}.").format(
        points=ngettext("{n} point", "{n} points", round_.points or 0).format(n=round_.points or 0),
        projects=ngettext("{n} project", "{n} projects", round_.min_projects).format(
            n=round_.min_projects
        ),
    )


def tally(election: Election, rule: str) -> dict[str, Any]:
    """The result to store and publish: selected ids (tally order), total cost, votes."""
    outcome = count(election, rule)
    votes: Counter[str] = Counter()
    for ballot in election.ballots:
        if ballot.points is None:
            votes.update(ballot.projects)
        else:
            for project_id, points in zip(ballot.projects, ballot.points, strict=True):
                votes[project_id] += int(points)
    return {
        "selected": sorted(outcome.selected, key=natural_key),
        "total_cost": int(outcome.total_cost),
        "votes": {p.project_id: votes.get(p.project_id, 0) for p in election.projects},
        "voters": len(election.ballots),
        "rule": rule,
    }


def _count_text(round_: BudgetRound, n: int) -> str:
    if round_.ballot_type == "cumulative":
        return ngettext("{n} point", "{n} points", n).format(n=n)
    return ngettext("{n} vote", "{n} votes", n).format(n=n)


def _ranked(round_: BudgetRound, projects: list[BudgetProject]) -> list[BudgetProject]:
    """The projects on the ballot, most votes first (ties by number)."""
    votes: dict[str, int] = (round_.result or {}).get("votes", {})
    return sorted(
        (p for p in projects if budgets.on_ballot(p)),
        key=lambda p: (-votes.get(p.code, 0), natural_key(p.code)),
    )


def _why_not(round_: BudgetRound, project: BudgetProject, left: int) -> str:
    """Why a project on the ballot was not chosen, in a few plain words."""
    if project.cost > left:
        return _("not chosen: it did not fit in the money that was left")
    if round_.counting_rule == "greedy-stop":
        return _("not chosen: counting had stopped before this project")
    return _("not chosen: too few votes for what it costs")


def results_text(round_: BudgetRound, hood_name: str, projects: list[BudgetProject]) -> str:
    """The published result, in the current language: every project of the round, with its
    cost and votes, chosen or not and why not."""
    result = round_.result or {}
    votes: dict[str, int] = result.get("votes", {})
    voters = int(result.get("voters", 0))
    chosen = set(result.get("selected", []))
    total = int(result.get("total_cost", 0))
    lines = [
        _("Results of “{title}” in {name}").format(title=round_.title, name=hood_name),
        ngettext("{n} person voted.", "{n} people voted.", voters).format(n=voters),
        _("Who could vote: {voters}.").format(voters=voters_text(round_)),
        "",
        _("The projects, most votes first:"),
    ]
    for p in _ranked(round_, projects):
        verdict = _("chosen") if p.code in chosen else _why_not(round_, p, round_.budget - total)
        count_text = _count_text(round_, votes.get(p.code, 0))
        lines.append(f"• {p.code} {p.title}: {euros(p.cost)} – {count_text} – {verdict}")
    if not chosen:
        lines.append(_("No project was chosen."))
    for p in sorted(projects, key=lambda p: natural_key(p.code)):
        if p.feasible is False:
            lines.append(
                "• "
                + _("{code} {title}: not on the ballot, not feasible").format(
                    code=p.code, title=p.title
                )
            )
    lines.append(
        _("Together {total} of {budget}.").format(total=euros(total), budget=euros(round_.budget))
    )
    lines += [
        "",
        _("Counted with: {rule}.").format(rule=rule_text(round_.counting_rule)),
        _(
            "When two projects are equal, the lower project number goes first. "
            "Numbers are compared as text, so 10 comes before 2."
        ),
        _("Anyone can count again: the anonymous ballots can be downloaded as a Pabulib file."),
    ]
    return "\n".join(lines)


def chart(round_: BudgetRound, projects: list[BudgetProject]) -> bytes:
    """Votes and cost per project on the ballot, chosen ones marked, in the current language."""
    result = round_.result or {}
    votes: dict[str, int] = result.get("votes", {})
    chosen = set(result.get("selected", []))
    ordered = _ranked(round_, projects)
    marks = [p.code in chosen for p in ordered]
    words = [f"{_count_text(round_, votes.get(p.code, 0))}, {euros(p.cost)}" for p in ordered]
    return bar_chart(
        round_.title,
        [f"{p.code} {p.title}" for p in ordered],
        [votes.get(p.code, 0) for p in ordered],
        words,
        marks,
        legend=(_("chosen"), _("not chosen")),
    )


async def open_round(
    session: AsyncSession,
    round_: BudgetRound,
    keys: BallotKeys,
    group_locale: str = "nl",
    announce: bool = True,
) -> None:
    """Voting opens: lock the rules and the key, and tell the neighbourhood (unless it is
    over already)."""
    keys.bind(round_)
    await budgets.start_voting(session, round_)
    if not announce:
        return
    closes_at = round_.closes_at

    def render() -> str:
        text = _("Voting has started for “{title}”.").format(title=round_.title)
        if closes_at is not None:
            text += " " + _("You can vote until {when}.").format(when=when(closes_at))
        return text + "\n" + _("Vote in a private chat with me: type /stem.")

    await broadcast(session, Target(round_.neighbourhood_id), render, group_locale=group_locale)


async def extend_round(
    session: AsyncSession,
    round_: BudgetRound,
    closes_at: datetime,
    now: datetime,
    group_locale: str = "nl",
) -> None:
    """Voting stays open longer: a later closing time, and the neighbourhood (told the old
    time when voting opened) hears the new one."""
    await budgets.extend_voting(session, round_, closes_at, now)

    def render() -> str:
        return (
            _("Voting for “{title}” stays open longer: you can vote until {when}.").format(
                title=round_.title, when=when(closes_at)
            )
            + "\n"
            + _("Vote in a private chat with me: type /stem.")
        )

    await broadcast(session, Target(round_.neighbourhood_id), render, group_locale=group_locale)


async def close_round(
    session: AsyncSession,
    round_: BudgetRound,
    now: datetime,
    keys: BallotKeys,
    group_locale: str = "nl",
) -> None:
    """Open the sealed ballots, count with the round's rule, store the result and publish
    it with a chart; all in the caller's transaction."""
    assert round_.id is not None
    round_.phase = "closed"
    await ballots.open_sealed(session, round_, keys)
    election = await results.election_of(session, round_)
    round_.result = tally(election, round_.counting_rule)
    projects = await budgets.projects_of(session, round_.id)
    hood = await places.neighbourhood(session, round_.neighbourhood_id)
    hood_name = hood.name if hood else ""
    charts: dict[str, dict[str, Any]] = {}
    for locale in SUPPORTED_LOCALES:  # the chart has words: one per language
        with use_locale(locale):
            charts[locale] = {"media_id": await store_image(session, chart(round_, projects))}
    await broadcast(
        session,
        Target(round_.neighbourhood_id),
        lambda: results_text(round_, hood_name, projects),
        per_locale=charts,
        group_locale=group_locale,
    )
    round_.phase = "results"
    round_.published_at = now
    session.add(round_)
    await session.flush()


async def sweep(db: Database, clock: Clock, keys: BallotKeys, group_locale: str = "nl") -> int:
    """Open the rounds whose time has come and close the ones whose voting is over."""
    now = clock.now()
    done = 0
    async with db.session() as session:
        to_open = await budgets.due_to_open(session, now)
    for round_id in to_open:
        async with db.transaction() as session:
            round_ = await budgets.lock_for_update(session, round_id)
            if round_ is not None and round_.phase == "proposals":
                # Down for the whole window: no "vote now" just before the results.
                over = round_.closes_at is not None and round_.closes_at <= now
                await open_round(session, round_, keys, group_locale, announce=not over)
                done += 1
    async with db.session() as session:
        to_close = await budgets.due_to_close(session, now)
    for round_id in to_close:
        try:
            async with db.transaction() as session:
                round_ = await budgets.lock_for_update(session, round_id)
                if round_ is not None and round_.phase in ("voting", "closed"):
                    await close_round(session, round_, now, keys, group_locale)
                    done += 1
        except Exception:
            log.exception("closing budget round %s failed; the next sweep tries again", round_id)
    return done
