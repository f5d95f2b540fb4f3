"""Two neighbourhoods, each with its own municipality system, and people talking to the bot.

Schalkwijk forwards to one stand-in, Delftwijk to another; coco coordinates Schalkwijk,
dora Delftwijk. Reports are filed and forwarded through the chat, as people do.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from bot.app import App
from bot.ops.admin import grant_coordinator
from bot.ops.setup_data import apply_setup
from tests.standins import oidc
from tests.standins.open311 import Open311StandIn
from tests.standins.signalen import SignalenStandIn
from tests.support.fake import Chat, FakeAdapter, MakeChat

HOODS = {"schalkwijk": ("Schalkwijk", "coco"), "delftwijk": ("Delftwijk", "dora")}
KEY_ENV = "WIJKBOT_TEST_OPEN311_KEY"  # set by the `open311_key` fixture (conftest)
PLACES = {"schalkwijk": (52.3645, 4.6530), "delftwijk": (52.4005, 4.6410)}


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_inline(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


SIGNALEN_SECRET_ENV = "WIJKBOT_TEST_SIGNALEN_SECRET"  # set by `open311_key` too (conftest)
SIGNALEN_SECRET = "geheim-van-de-testgemeente"
SIGNALEN_USER = "wijkbot@gemeente.test"


@functools.cache
def provider_key() -> rsa.RSAPrivateKey:
    """The test OIDC provider's signing key (one per test run: RSA keys are slow to make)."""
    return oidc.new_key()


def private_signalen(**options: Any) -> SignalenStandIn:
    """A Signalen whose private API Wijkbot may use (client "wijkbot", its user known)."""
    return SignalenStandIn(
        key=provider_key(), clients={"wijkbot": (SIGNALEN_SECRET, SIGNALEN_USER)}, **options
    )


def signalen_table(s: SignalenStandIn, **extra: Any) -> dict[str, Any]:
    """The forwarding table; with the private API when the stand-in offers it."""
    private = (
        {"token_url": f"{s.base_url}/oidc/token", "client_id": "wijkbot",
         "client_secret_env": SIGNALEN_SECRET_ENV}
        if s.key is not None else {}
    )  # fmt: skip
    return {
        "kind": "signalen", "base_url": s.base_url,
        "category_urls": {
            "lighting": s.category_url("wegen-verkeer-straatmeubilair", "verlichting"),
            "other": s.category_url("overig", "overig"),
        },
        **private,
        **extra,
    }  # fmt: skip


def open311_table(o: Open311StandIn, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "open311", "base_url": o.base_url, "api_key_env": KEY_ENV,
        "service_codes": {"lighting": "VL-01", "other": "OV-99"}, **extra,
    }  # fmt: skip


async def configure(app: App, tmp_path: Path, **tables: dict[str, Any]) -> None:
    """`configure(app, tmp_path, schalkwijk=signalen_table(s), delftwijk=…)`."""
    lines = []
    for slug, table in tables.items():
        lines += [
            "[[neighbourhood]]", f'slug = "{slug}"', f'name = "{HOODS[slug][0]}"',
            f"forwarding = {_inline(table)}", "",
        ]  # fmt: skip
    setup = tmp_path / "hoods.toml"
    setup.write_text("\n".join(lines))
    await apply_setup(app.db, setup)
    for slug in tables:
        await grant_coordinator(app.settings, "fake", HOODS[slug][1], slug)


async def report_and_forward(
    make_chat: MakeChat, resident: str, slug: str, text: str, nudge: float = 0.0
) -> str:
    """A resident reports a broken lamp; the neighbourhood's coordinator forwards it."""
    name, coordinator = HOODS[slug]
    chat: Chat = make_chat(resident, lang="en")
    await chat.say("/wijk")
    await chat.press(name)
    await chat.say("/melding")
    await chat.say(text)
    lat, lon = PLACES[slug]
    await chat.location(lat + nudge, lon)
    await chat.press("Skip")
    [saved] = await chat.press("Street lighting")
    if "reported this already" in saved.text:
        [saved] = await chat.press("No, this is something else")
    found = re.search(r"M-\d+", saved.text)
    assert found, saved.text
    reference = found[0]
    coord: Chat = make_chat(coordinator, lang="nl")
    await coord.say("/meldingen")
    await coord.press(reference)
    [queued] = await coord.press("Doorsturen naar de gemeente")
    assert reference in queued.text
    return reference


def texts(adapter: FakeAdapter, chat: str) -> list[str]:
    return [m.text for m in adapter.in_chat(chat)]


async def detail(make_chat: MakeChat, coordinator: str, reference: str) -> str:
    """What the coordinator sees when opening the report."""
    coord: Chat = make_chat(coordinator, lang="nl")
    await coord.say("/meldingen")
    [shown] = await coord.press(reference)
    return shown.text
