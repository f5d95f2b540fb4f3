"""Population figures (CBS "Kerncijfers wijken en buurten" shape): a file without the
columns loads nothing and says which are needed; loaded figures become the age quotas the
forum dialog offers, with each band's share in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App
from bot.ops.admin import grant_coordinator
from bot.ops.population import PopulationError, load_population
from storage.repo import forums, places
from tests.support.fake import Chat, MakeChat

DATA = Path(__file__).parent / "data" / "kerncijfers_haarlem.csv"


async def _figures(app: App) -> dict[str, int]:
    async with app.db.session() as s:
        hood = await places.neighbourhood_by_slug(s, "schalkwijk")
        assert hood is not None and hood.id is not None
        return await forums.population(s, hood.id)


async def test_a_file_without_the_columns_loads_nothing(app: App, tmp_path: Path) -> None:
    bad = tmp_path / "bevolking.csv"
    bad.write_text("regio;inwoners\nSchalkwijk;33450\n", encoding="utf-8")
    with pytest.raises(PopulationError, match="a_15_24"):
        await load_population(app.settings, bad)
    assert await _figures(app) == {}


async def test_figures_become_the_age_quotas_of_a_new_forum(app: App, make_chat: MakeChat) -> None:
    said = await load_population(app.settings, DATA)
    assert "for 1 neighbourhoods: Schalkwijk" in said
    assert "Centrum is not a neighbourhood here" in said and "Onbekend" in said
    assert await _figures(app) == {"15-24": 4120, "25-44": 9230, "45-64": 8410, "65+": 5550}
    await grant_coordinator(app.settings, "fake", "coco", "schalkwijk")
    coco: Chat = make_chat("coco", lang="en")
    await coco.say("/taal en")
    await coco.say("/newforum")
    await coco.say("Een groener plein")
    await coco.press("12")
    await coco.press("In 14 days")
    await coco.press("In 90 days")
    await coco.press("Do not balance parts")
    [figures, quotas] = await coco.press("Done")
    assert "15–24 years 15 %, 25–44 years 34 %, 45–64 years 31 %, 65 or older 20 %" in figures.text
    assert "age: 15–24 years 0–3, 25–44 years 3–6, 45–64 years 2–5, 65 or older 1–4" in quotas.text
    await coco.press("Open the forum")
    assert "wijkbot forum draw" in coco.text
