"""`wijkbot export conversation ID --format csv --out DIR`: a conversation as the Pol.is
open-data files, so anyone can analyse it again (`wijkbot gesprek analyse DIR`).

People are numbers from 0 (in the order they joined), never accounts or names; the
group-id column is the analysis of exactly these votes, so the files give the same groups
when analysed again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.config import Settings
from bot.ops.admin import AdminError
from bot.services.dialogue.analysis import Vote, analyse
from bot.services.dialogue.polis_format import Statement, write_conversation
from storage.db import Database
from storage.repo import dialogue

MODERATED = {"shown": 1, "waiting": 0, "rejected": -1}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def export_conversation(settings: Settings, conversation_id: int, fmt: str, out: Path) -> str:
    """Write the files into `out` (made when missing); what was written, in one line."""
    if fmt != "csv":
        raise AdminError("a conversation is exported as csv (the Pol.is open-data format)")
    db = Database(settings.effective_database_url)
    try:
        async with db.session() as session:
            conv = await dialogue.get(session, conversation_id)
            if conv is None:
                raise AdminError(f"no conversation {conversation_id}")
            rows = await dialogue.all_votes(session, conversation_id)
            shown = await dialogue.statements(session, conversation_id, status=None)
    finally:
        await db.dispose()
    number: dict[int, int] = {}
    for person_id in sorted({r.person_id for r in rows}):
        number[person_id] = len(number)
    for st in shown:
        if st.author_id is not None and st.author_id not in number:
            number[st.author_id] = len(number)
    statements = {
        st.id: Statement(
            st.id,
            st.text,
            MODERATED.get(st.status, 0),
            None if st.author_id is None else number[st.author_id],
            _ms(st.created_at),
        )
        for st in shown
        if st.id is not None
    }
    votes: list[Vote] = [(number[r.person_id], r.statement_id, r.value) for r in rows]
    times = {(number[r.person_id], r.statement_id): _ms(r.changed_at) for r in rows}
    out_ids = frozenset(s.id for s in statements.values() if s.moderated < 0)
    analysis = analyse(votes, out_ids)
    write_conversation(out, statements, votes, analysis, vote_times=times, topic=conv.question)
    return (
        f"Wrote comments.csv, participants-votes.csv, votes.csv and summary.csv to {out}: "
        f"{len({r.person_id for r in rows})} participants, {len(votes)} votes, "
        f"{len(statements)} statements, {analysis.n_groups} opinion groups."
    )
