"""Write an :class:`~bot.services.budget.counting.election.Election` in the Pabulib ``.pb`` format.

The output reads back (:func:`bot.services.budget.counting.pabulib.parse_pabulib`) into an equal election: amounts
are written exactly, free text with semicolons, quotes or line breaks is quoted CSV-style.
"""

from __future__ import annotations

import re

from bot.services.budget.counting.amounts import format_amount
from bot.services.budget.counting.election import Election

_NEEDS_QUOTES = re.compile(r'[;"\r\n]')


def _line(fields: list[str]) -> str:
    """One CSV line; fields with ``;``, quotes or line breaks are quoted."""
    return ";".join(
        '"' + f.replace('"', '""') + '"' if _NEEDS_QUOTES.search(f) else f for f in fields
    )


def write_pabulib(election: Election) -> str:
    """Render ``election`` as Pabulib text; :func:`parse_pabulib` reads it back unchanged."""
    lines = ["META", "key;value"]
    lines.extend(_line([key, value]) for key, value in election.meta.items())

    project_cols: dict[str, None] = {}
    for project in election.projects:
        project_cols.update(dict.fromkeys(project.extra))
    lines += ["PROJECTS", _line(["project_id", "cost", *project_cols])]
    for project in election.projects:
        extra = [project.extra.get(c, "") for c in project_cols]
        lines.append(_line([project.project_id, format_amount(project.cost), *extra]))

    vote_cols: dict[str, None] = {}
    for ballot in election.ballots:
        vote_cols.update(dict.fromkeys(ballot.extra))
    with_points = election.uses_points
    lines += ["VOTES", _line(["voter_id", "vote", *(["points"] * with_points), *vote_cols])]
    for ballot in election.ballots:
        fields = [ballot.voter_id, ",".join(ballot.projects)]
        if with_points:
            fields.append(",".join(format_amount(p) for p in ballot.points or ()))
        fields.extend(ballot.extra.get(c, "") for c in vote_cols)
        lines.append(_line(fields))
    lines.append("")
    return "\n".join(lines)
