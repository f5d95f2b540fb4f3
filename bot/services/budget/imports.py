"""Budget rounds from files: a Pabulib `.pb` or a CSV of projects (``wijkbot budget import``)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.text import whole_number
from bot.services.budget.counting.pabulib import PabulibError, parse_pabulib
from bot.services.budget.round_rules import create_round
from storage.models import BudgetRound
from storage.repo.budgets import BudgetError, ProjectSpec, RoundSpec, add_projects


def _whole(value: Any, what: str, line: int | None) -> int:
    if isinstance(value, int) and value >= 0:
        return value
    raise BudgetError(f"{what} must be a whole number of euros, not {value}", line)


def parse_pb_projects(source: str) -> RoundSpec:
    """Round settings and projects from a Pabulib file; its votes are ignored."""
    try:
        election = parse_pabulib(source)
    except PabulibError as exc:
        raise BudgetError(exc.problem, exc.line) from None
    meta = election.meta

    def meta_int(key: str) -> int | None:
        value = meta.get(key, "").strip()
        return whole_number(value)

    ballot_type = "cumulative" if election.vote_type == "cumulative" else None
    if election.vote_type == "approval":
        ballot_type = "knapsack" if "max_sum_cost" in meta else "approval"
    if ballot_type is None:
        raise BudgetError(f"vote type {election.vote_type!r} is not supported for a round")
    projects = tuple(
        ProjectSpec(
            code=p.project_id,
            title=(p.extra.get("name") or p.project_id)[:200],
            cost=_whole(p.cost, f"the cost of project {p.project_id}", None),
            description=p.extra.get("description", ""),
        )
        for p in election.projects
    )
    return RoundSpec(
        title=meta.get("description", "").strip(),
        budget=_whole(election.budget, "the budget", None),
        ballot_type=ballot_type,
        min_projects=meta_int("min_length"),
        max_projects=meta_int("max_length"),
        points=meta_int("max_sum_points"),
        projects=projects,
    )


_EUROS = re.compile(r"^€?\s*(\d{1,3}(?:\.\d{3})+|\d+)(?:,-|,00)?$")
_CSV_HEADER = ["id", "title", "description", "cost"]


def parse_csv_projects(source: str) -> tuple[ProjectSpec, ...]:  # noqa: C901 -- one check per column
    """Projects from CSV with the header ``id,title,description,cost`` (cost in euros)."""
    reader = csv.reader(io.StringIO(source.removeprefix("\ufeff"), newline=""), strict=True)
    projects: list[ProjectSpec] = []
    seen: set[str] = set()
    header_done = False
    try:
        for row in reader:
            line = reader.line_num
            if not "".join(row).strip():
                continue
            if not header_done:
                if [c.strip().lower() for c in row] != _CSV_HEADER:
                    raise BudgetError("the header must be: id,title,description,cost", line)
                header_done = True
                continue
            if len(row) != 4:
                raise BudgetError(f"expected 4 fields, found {len(row)}", line)
            code, title, description, cost_text = (c.strip() for c in row)
            if not code or not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", code):
                raise BudgetError(f"project id {code!r} must be 1-40 letters, digits, _ . -", line)
            if code in seen:
                raise BudgetError(f"project id {code!r} appears twice", line)
            if not title:
                raise BudgetError("the title is empty", line)
            m = _EUROS.match(cost_text)
            if m is None:
                raise BudgetError(f"cost is not a whole number of euros: {cost_text!r}", line)
            seen.add(code)
            projects.append(
                ProjectSpec(code, title[:200], int(m.group(1).replace(".", "")), description)
            )
    except csv.Error as exc:
        raise BudgetError(f"unreadable row ({exc})", reader.line_num) from None
    if not header_done:
        raise BudgetError("the file is empty", 1)
    if not projects:
        raise BudgetError("the file lists no projects", reader.line_num)
    return tuple(projects)


async def import_round(
    session: AsyncSession,
    *,
    neighbourhood_id: int,
    source: str,
    kind: str,
    counting_rule: str,
    title: str | None = None,
    budget: int | None = None,
    ballot_type: str | None = None,
    voters: str = "codes",
) -> BudgetRound:
    """A new round with its projects from a Pabulib (``kind="pb"``) or CSV text."""
    if kind == "pb":
        spec = parse_pb_projects(source)
    elif kind == "csv":
        projects = parse_csv_projects(source)
        spec = RoundSpec("", None, None, None, None, None, projects)
    else:
        raise BudgetError(f"unknown file kind {kind!r}: use a .pb or .csv file")
    total_budget = budget if budget is not None else spec.budget
    if total_budget is None:
        raise BudgetError("a CSV file has no budget: give it with --budget")
    round_title = title or spec.title
    if not round_title:
        raise BudgetError("the round needs a title: give it with --title")
    round_ = await create_round(
        session,
        neighbourhood_id=neighbourhood_id,
        title=round_title[:200],
        budget=total_budget,
        counting_rule=counting_rule,
        ballot_type=ballot_type or spec.ballot_type or "knapsack",
        min_projects=spec.min_projects or 1,
        max_projects=spec.max_projects,
        points=spec.points,
        voters=voters,
    )
    await add_projects(session, round_, spec.projects)
    return round_
