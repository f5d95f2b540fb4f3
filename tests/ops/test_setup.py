"""`wijkbot setup`: idempotent, and the forwarding table is checked before it is stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App
from bot.ops.setup_data import SetupError, apply_setup
from storage.repo import places

EXAMPLE = Path(__file__).resolve().parents[2] / "wijkbot.example.toml"
HOOD = '[[neighbourhood]]\nslug = "schalkwijk"\nname = "Schalkwijk"\n'


async def test_setup_is_idempotent(app: App, tmp_path: Path) -> None:
    await apply_setup(app.db, EXAMPLE)
    await apply_setup(app.db, EXAMPLE)
    async with app.db.session() as s:
        assert len(await places.neighbourhoods(s)) == 7
        assert len(await places.themes_for(s, None)) == 6


@pytest.mark.parametrize(
    ("forwarding", "message"),
    [
        ('{ kind = "open311", base_url = "http://127.0.0.1:1", api_key = "geheim", '
         'service_codes = { other = "X" } }', "keep secrets out of this file"),
        ('{ kind = "carrier-pigeon" }', "forwarding.kind"),
        ('{ kind = "signalen", base_url = "http://127.0.0.1:1", category_urls = { road = "x" } }',
         "other"),
    ],
)  # fmt: skip
async def test_bad_forwarding_is_refused_with_its_name(
    app: App, tmp_path: Path, forwarding: str, message: str
) -> None:
    setup = tmp_path / "setup.toml"
    setup.write_text(HOOD + f"forwarding = {forwarding}\n")
    with pytest.raises(SetupError) as err:
        await apply_setup(app.db, setup)
    assert "schalkwijk" in str(err.value) and message in str(err.value)


async def test_secret_named_by_environment_variable(app: App, tmp_path: Path) -> None:
    setup = tmp_path / "setup.toml"
    setup.write_text(
        HOOD + 'forwarding = { kind = "open311", base_url = "http://127.0.0.1:1", '
        'api_key_env = "HAARLEM_KEY", service_codes = { other = "X" } }\n'
    )
    await apply_setup(app.db, setup)
    async with app.db.session() as s:
        hood = await places.neighbourhood_by_slug(s, "schalkwijk")
        assert hood is not None and hood.forwarding["api_key_env"] == "HAARLEM_KEY"
        assert "api_key" not in hood.forwarding  # the secret itself is never stored


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ('[[wijk]]\nslug = "noord"\n', "unknown section [wijk]"),
        ('naam = "Schalkwijk-Zuid"\n', "neighbourhood nieuw-noord: unknown key naam"),
        ('[[theme]]\nslug = "groen"\nnames = { nl = "Groen" }\ntitel = "x"\n',
         "theme groen: unknown key titel"),
    ],
)  # fmt: skip
async def test_unknown_sections_and_keys_are_named(
    app: App, tmp_path: Path, extra: str, named: str
) -> None:
    setup = tmp_path / "setup.toml"
    setup.write_text(HOOD.replace("schalkwijk", "nieuw-noord") + extra.replace("schalkwijk", "x"))
    with pytest.raises(SetupError) as err:
        await apply_setup(app.db, setup)
    assert named in str(err.value) and len(str(err.value).splitlines()) == 1
    async with app.db.session() as s:
        assert await places.neighbourhood_by_slug(s, "nieuw-noord") is None  # nothing half-done


async def test_signalen_without_a_fallback_point_is_warned_about(app: App, tmp_path: Path) -> None:
    """Signalen needs coordinates: without a fallback point, address-only reports fail."""
    other = "http://127.0.0.1:1/signals/v1/public/terms/categories/overig/sub_categories/overig"
    signalen = f'kind = "signalen", base_url = "http://127.0.0.1:1", category_urls = {{ other = "{other}" }}'
    setup = tmp_path / "setup.toml"
    setup.write_text(HOOD + f"forwarding = {{ {signalen} }}\n")
    result = await apply_setup(app.db, setup)
    [warning] = result.warnings
    assert "schalkwijk" in warning and "fallback_point" in warning and "\n" not in warning
    point = "fallback_point = { lat = 52.36, lon = 4.65 }"
    setup.write_text(HOOD + f"forwarding = {{ {signalen}, {point} }}\n")
    assert (await apply_setup(app.db, setup)).warnings == ()
