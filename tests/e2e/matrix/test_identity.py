"""The bot's cross-signing identity, as another client sees it on the homeserver.

A resident's client (Element) trusts the bot's device when /keys/query shows a master key,
a self-signing key signed by it, and the device signed by the self-signing key. Checked
here with `cryptography` on canonical JSON, independent of the bot's own code.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import SecretStr
from unpaddedbase64 import decode_base64

from bot.adapters.matrix.identity import IdentityError, identity_command
from bot.config import Settings
from bot.core.clock import FrozenClock
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot
from tests.support.synapse import SynapseServer

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]


def valid(obj: dict[str, Any], user_id: str, public: str) -> bool:
    """`obj` carries a valid signature by `public` (key id ed25519:<key or device>)."""
    signed = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    message = json.dumps(signed, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for signature in obj.get("signatures", {}).get(user_id, {}).values():
        try:
            Ed25519PublicKey.from_public_bytes(decode_base64(public)).verify(
                decode_base64(signature), message.encode()
            )
        except (InvalidSignature, ValueError):
            continue
        return True
    return False


def only_key(obj: dict[str, Any]) -> str:
    (key,) = obj["keys"].values()
    return str(key)


def master_signed_by_device(synapse: SynapseServer, bot: Bot) -> bool:
    """The bot's own view (Synapse shows a device's signature on the master key only to
    the account itself), as Element leaves it after setting up cross-signing."""
    uid, client = bot.user_id, bot.adapter.client
    found = synapse.request(
        "POST", "/_matrix/client/v3/keys/query", {"device_keys": {uid: []}},
        token=client.access_token,
    )  # fmt: skip
    device = found["device_keys"][uid][client.device_id]
    return valid(found["master_keys"][uid], uid, device["keys"][f"ed25519:{client.device_id}"])


def seen_by_resident(synapse: SynapseServer, token: str, bot: Bot) -> dict[str, Any]:
    """What a resident's client gets for the bot from /keys/query, checked as Element does.
    Returns the master key, the self-signing key and the signed device."""
    uid = bot.user_id
    found = synapse.request(
        "POST", "/_matrix/client/v3/keys/query", {"device_keys": {uid: []}}, token=token
    )
    master = found["master_keys"][uid]
    ssk = found["self_signing_keys"][uid]
    device_id = bot.adapter.client.device_id
    device = found["device_keys"][uid][device_id]
    assert master["usage"] == ["master"] and ssk["usage"] == ["self_signing"]
    assert valid(ssk, uid, only_key(master)), "self-signing key not signed by the master key"
    assert valid(device, uid, only_key(ssk)), "device not signed by the self-signing key"
    return {"master": only_key(master), "ssk": only_key(ssk), "device": device_id}


async def test_bot_device_is_cross_signed_and_stays_so_over_restarts_and_a_lost_store(
    bot: Bot, synapse: SynapseServer, clock: FrozenClock
) -> None:
    token = synapse.fresh_user("eva").access_token
    await bot.start(clock)
    first = seen_by_resident(synapse, token, bot)
    assert master_signed_by_device(synapse, bot)
    assert bot.adapter.identity_uploads == ["identity", "signatures"]
    await bot.stop()

    await bot.start(clock)  # a restart: same identity, nothing uploaded again
    assert seen_by_resident(synapse, token, bot) == first
    assert bot.adapter.identity_uploads == []
    await bot.stop()

    shutil.rmtree(bot.settings.data_dir / "matrix-store")  # the crypto store is lost
    await bot.start(clock)
    again = seen_by_resident(synapse, token, bot)
    assert again["device"] != first["device"]  # a new device …
    assert (again["master"], again["ssk"]) == (first["master"], first["ssk"])  # … same identity
    assert master_signed_by_device(synapse, bot)
    assert bot.adapter.identity_uploads == ["signatures"]


async def test_identity_the_bot_has_no_keys_for_stops_it_with_one_line(
    bot: Bot, synapse: SynapseServer, clock: FrozenClock
) -> None:
    token = synapse.fresh_user("eva").access_token
    await bot.start(clock)
    first = seen_by_resident(synapse, token, bot)
    await bot.stop()

    (bot.settings.data_dir / "matrix-identity.json").unlink()  # the keys are lost
    with pytest.raises(IdentityError) as stopped:
        await bot.start(clock)
    message = str(stopped.value)
    assert "\n" not in message
    assert "wijkbot matrix reset-identity --replace" in message
    assert "matrix-identity.json" in message
    found = synapse.request(
        "POST", "/_matrix/client/v3/keys/query", {"device_keys": {bot.user_id: []}}, token=token
    )
    assert only_key(found["master_keys"][bot.user_id]) == first["master"]  # never reset

    # The operator chooses a new identity (`wijkbot matrix reset-identity --replace`).
    line = await identity_command(bot.settings, bot.app.adapter_store, None, replace=True)
    assert "master key" in line and "\n" not in line
    await bot.stop()
    await bot.start(clock)
    new = seen_by_resident(synapse, token, bot)
    assert new["master"] != first["master"] and new["master"] in line
    assert bot.adapter.identity_uploads == []  # the reset signed this device already


async def test_bot_with_only_an_access_token_sets_up_its_identity(
    synapse: SynapseServer, db_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    """The first upload needs no password on Synapse (MSC3967), so `bootstrap` is only
    needed where a homeserver asks for one."""
    account = synapse.fresh_user("wijkbot")
    settings = Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        matrix_homeserver=synapse.url,
        matrix_user_id=account.user_id,
        matrix_access_token=SecretStr(account.access_token),
    )
    bot = Bot(synapse, account, settings)
    try:
        await bot.start(clock)
        seen_by_resident(synapse, synapse.fresh_user("eva").access_token, bot)
        assert bot.adapter.identity_uploads == ["identity", "signatures"]
    finally:
        await bot.stop()
