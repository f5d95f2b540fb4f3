"""Proof with Element's own crypto: matrix-js-sdk + Rust crypto, not nio (issue #12 §6)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.core.clock import FrozenClock
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot
from tests.e2e.matrix.element import ElementResident, NodeUnavailable, Seen, ensure_installed
from tests.e2e.matrix.test_direct import number_of
from tests.support.synapse import SynapseServer

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]

MakeElement = Callable[[bool], Awaitable[ElementResident]]


@pytest.fixture(scope="session")
def node() -> Path:
    """Node with the harness installed (`npm ci` on first use); CI requires it."""
    try:
        return ensure_installed()
    except NodeUnavailable as exc:
        if os.environ.get("WIJKBOT_REQUIRE_NODE") == "1":
            pytest.fail(f"Node is required (WIJKBOT_REQUIRE_NODE=1) but: {exc}")
        pytest.skip(f"{exc}: the Element-crypto proof is skipped")


@pytest.fixture
async def make_element(
    node: Path, synapse: SynapseServer, tmp_path: Path
) -> AsyncIterator[MakeElement]:
    made: list[ElementResident] = []

    async def make(isolation: bool) -> ElementResident:
        account = synapse.fresh_user("element")
        resident = ElementResident(node, tmp_path / f"{account.localpart}.log")
        made.append(resident)
        await resident.start(synapse.url, account.localpart, account.password, isolation)
        return resident

    yield make
    for resident in made:
        await resident.stop()


def check(seen: Seen, shields: bool) -> None:
    """What a resident on Element notices about one message from the bot."""
    assert seen.encrypted, f"the bot answered unencrypted in an encrypted chat: {seen.text!r}"
    assert seen.decrypted, f"Element cannot decrypt the bot's message ({seen.failure})"
    if shields:
        assert not seen.warned, f"Element shows a {seen.shield} shield on {seen.text!r}"


async def expect(resident: ElementResident, needle: str, shields: bool) -> str:
    """The bot's messages up to the one containing `needle`; each one checked on arrival."""
    while True:
        seen = await resident.next()
        check(seen, shields)
        if seen.text and needle in seen.text:
            return seen.text


async def start_and_report(resident: ElementResident, bot: Bot, shields: bool) -> None:
    """`!start` and a full `!melding`, in Dutch, in an encrypted direct chat."""
    room = await resident.open_dm(bot.user_id)
    await resident.say(room, "!start")
    asked = await expect(resident, "Welke taal", shields)
    await resident.say(room, str(number_of(asked, "Nederlands")))
    asked = await expect(resident, "In welke wijk", shields)
    await resident.say(room, str(number_of(asked, "Schalkwijk")))
    asked = await expect(resident, "Welkom in Schalkwijk", shields)
    await resident.say(room, str(number_of(asked, "Klaar")))
    await expect(resident, "Dit kan ik voor je doen", shields)

    await resident.say(room, "!melding")
    await expect(resident, "Wat is er mis?", shields)
    await resident.say(room, "Losse stoeptegel bij de bushalte")
    await expect(resident, "Waar is het?", shields)
    await resident.say(room, "Kennemerplein 5")
    asked = await expect(resident, "Heb je een foto?", shields)
    await resident.say(room, str(number_of(asked, "Overslaan")))
    asked = await expect(resident, "Wat voor probleem", shields)
    await resident.say(room, str(number_of(asked, "Straat")))
    done = await expect(resident, "Je melding heeft nummer", shields)
    assert "M-1001" in done


async def test_every_bot_message_decrypts_in_elements_crypto(
    bot: Bot, make_element: MakeElement, clock: FrozenClock
) -> None:
    """Element's default today (all devices): readable, and no warning shield (the bot's
    device is signed by its own cross-signing identity)."""
    await bot.start(clock)
    resident = await make_element(False)
    await start_and_report(resident, bot, shields=True)
    seen = await resident.seen()
    assert seen and all(s.decrypted for s in seen)


async def test_residents_who_exclude_insecure_devices_read_the_bot_without_warnings(
    bot: Bot, make_element: MakeElement, clock: FrozenClock
) -> None:
    """Element's "exclude insecure devices" (MSC4153): no shield, nothing withheld."""
    await bot.start(clock)
    resident = await make_element(True)
    await start_and_report(resident, bot, shields=True)
    seen = await resident.seen()
    assert seen and not any(s.warned or not s.decrypted for s in seen)


async def test_element_opens_the_bots_secret_storage_with_its_recovery_key(
    bot: Bot, node: Path, synapse: SynapseServer, clock: FrozenClock, tmp_path: Path
) -> None:
    """Proof that `wijkbot matrix recovery setup` writes what the spec (and Element) reads:
    matrix-js-sdk, logged in as the bot on a new device, decodes the recovery key, checks it
    against the key description, takes the three private keys from secret storage and signs
    its own device with them (it would refuse keys that do not match the homeserver's)."""
    from bot.adapters.matrix.recovery import setup_command
    from tests.e2e.matrix.test_identity import seen_by_resident

    await bot.start(clock)
    master = seen_by_resident(synapse, synapse.fresh_user("eva").access_token, bot)["master"]
    await bot.stop()
    text = await setup_command(bot.settings, bot.app.adapter_store)
    recovery_key = next(line.strip() for line in text.splitlines() if line.startswith("    "))

    element = ElementResident(node, tmp_path / "element-as-bot.log")
    try:
        found = await element.recover(
            synapse.url, bot.account.localpart, bot.account.password, recovery_key
        )
    finally:
        await element.stop()
    assert found["key_ok"], "the key description's MAC does not match the recovery key"
    assert found["master_key"] == master
    cached = found["status"]["privateKeysCachedLocally"]
    assert cached == {"masterKey": True, "selfSigningKey": True, "userSigningKey": True}
    assert found["status"]["privateKeysInSecretStorage"]
    assert found["verified"], "the new device is not signed by the bot's identity"
