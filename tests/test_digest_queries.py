"""The number of SQL statements a digest run sends does not grow with the residents."""

from __future__ import annotations

from bench.digest.bench_digest import add_items, add_places, add_residents, build_once
from storage.db import Database


async def test_query_count_does_not_grow_with_residents(db_url: str) -> None:
    db = Database(db_url)
    try:
        await add_places(db)
        await add_residents(db, 1, 40)
        await add_items(db, 40, 300)
        few_messages, _s, few_queries, _mb = await build_once(db)
        await add_residents(db, 41, 400)
        many_messages, _s, many_queries, _mb = await build_once(db)
    finally:
        await db.dispose()
    assert 0 < few_messages < many_messages
    assert many_queries == few_queries <= 20
