"""Migration 0007: group links stored with a person (before it) lose that person."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from storage.db import sync_url
from storage.migrate import downgrade, upgrade


def test_groups_stored_with_a_person_are_cleared(db_url: str) -> None:
    downgrade(db_url, "0006")
    engine = create_engine(sync_url(db_url))
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO person (id, locale, onboarded, created_at) VALUES (7, 'nl', false, '2026-01-01')"))  # fmt: skip
            conn.execute(text(
                "INSERT INTO channel (platform, chat_id, kind, person_id, reachable, created_at) VALUES "
                "('matrix', '!group:x', 'group', 7, true, '2026-01-01'), "
                "('matrix', '!dm:x', 'direct', 7, true, '2026-01-01')"
            ))  # fmt: skip
        upgrade(db_url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT chat_id, person_id FROM channel ORDER BY chat_id"))
            assert sorted(rows.all()) == [("!dm:x", 7), ("!group:x", None)]
    finally:
        engine.dispose()
