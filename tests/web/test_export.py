"""The web overview's download: every report of the coordinator's neighbourhoods, no
other, in a fixed number of SQL statements however many neighbourhoods they have."""

from __future__ import annotations

import csv
import io

import httpx

from bench.digest.bench_digest import count_queries
from bot.app import App
from bot.ops.admin import grant_coordinator
from tests.support.fake import MakeChat
from tests.web.conftest import coordinator, link_in, log_in, resident_report


async def test_export_covers_all_own_neighbourhoods_in_one_query(
    app: App, make_chat: MakeChat, web: httpx.AsyncClient
) -> None:
    await resident_report(make_chat, "anna", "Schalkwijk", "Lamp stuk aan de Europaweg")
    await resident_report(make_chat, "bert", "Delftwijk", "Lamp stuk aan de Delftlaan",
                          lat=52.39, lon=4.62)  # fmt: skip
    await resident_report(make_chat, "cem", "Molenwijk", "Lamp stuk aan de Molenstraat",
                          lat=52.40, lon=4.66)  # fmt: skip
    coco = await coordinator(app, make_chat)
    await log_in(web, link_in(await coco.say("/dashboard")))
    with count_queries(app.db.engine) as one_hood:
        single = await web.get("/export.csv")
    await grant_coordinator(app.settings, "fake", "coco", "delftwijk")
    with count_queries(app.db.engine) as two_hoods:
        both = await web.get("/export.csv")
    assert single.status_code == both.status_code == 200
    rows = list(csv.DictReader(io.StringIO(both.text)))
    assert sorted(r["neighbourhood"] for r in rows) == ["Delftwijk", "Schalkwijk"]
    assert "Molenstraat" not in both.text and "Delftlaan" not in single.text
    assert len(two_hoods) == len(one_hood)  # does not grow with the neighbourhoods
