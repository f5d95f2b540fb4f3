"""Moving the bot with a recovery key: secret storage on the real Synapse (issue #12 §2)."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from unpaddedbase64 import decode_base64

from bot.adapters.matrix.identity import key_path, load_keys
from bot.adapters.matrix.recovery import (
    RecoveryError,
    encode_recovery_key,
    restore_command,
    setup_command,
)
from bot.core.clock import FrozenClock
from bot.core.secret_key import load_secret_key
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot
from tests.e2e.matrix.test_identity import master_signed_by_device, seen_by_resident
from tests.support.synapse import SynapseServer

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]

RECOVERY_KEY = re.compile(r"^ {4}((?:[1-9A-HJ-NP-Za-km-z]{4} ){11}[1-9A-HJ-NP-Za-km-z]{4})$", re.M)
NAMES = ("m.cross_signing.master", "m.cross_signing.self_signing", "m.cross_signing.user_signing")


def account_data(synapse: SynapseServer, bot: Bot, kind: str) -> dict[str, Any]:
    path = f"/_matrix/client/v3/user/{quote(bot.user_id)}/account_data/{kind}"
    found: dict[str, Any] = synapse.request("GET", path, None, token=bot.account.access_token)
    return found


def every_file(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


async def set_up_recovery(bot: Bot, clock: FrozenClock) -> str:
    """The bot runs once (its identity), stops; the operator runs `recovery setup`."""
    await bot.start(clock)
    await bot.stop()
    text = await setup_command(bot.settings, bot.app.adapter_store)
    (recovery_key,) = RECOVERY_KEY.findall(text)
    assert "Keep it safe" in text
    return str(recovery_key)


def new_machine(bot: Bot, tmp_path: Path) -> Bot:
    """Same account and database, an empty data directory (so a new secret key too)."""
    settings = bot.settings.model_copy(update={"data_dir": tmp_path / "new-machine"})
    return Bot(bot.server, bot.account, settings)


async def test_setup_shows_a_recovery_key_and_stores_the_identity_encrypted(
    bot: Bot, synapse: SynapseServer, clock: FrozenClock
) -> None:
    recovery_key = await set_up_recovery(bot, clock)

    key_id = account_data(synapse, bot, "m.secret_storage.default_key")["key"]
    description = account_data(synapse, bot, f"m.secret_storage.key.{key_id}")
    assert description["algorithm"] == "m.secret_storage.v1.aes-hmac-sha2"
    keys = load_keys(key_path(bot.settings), load_secret_key(bot.settings), bot.user_id)
    assert keys is not None
    seeds = keys.seeds()
    for name, usage in zip(NAMES, ("master", "self_signing", "user_signing"), strict=True):
        stored = account_data(synapse, bot, name)
        assert set(stored) == {"encrypted"} and set(stored["encrypted"]) == {key_id}
        item = stored["encrypted"][key_id]
        assert seeds[usage] not in json.dumps(stored)  # not in plain text
        assert len(decode_base64(item["ciphertext"])) == len(seeds[usage])
    # Shown once: the recovery key is kept nowhere on the machine.
    squeezed = recovery_key.replace(" ", "").encode()
    assert squeezed not in every_file(bot.settings.data_dir)
    assert recovery_key.encode() not in every_file(bot.settings.data_dir)


async def test_a_new_machine_with_the_recovery_key_keeps_the_identity(
    bot: Bot, synapse: SynapseServer, clock: FrozenClock, tmp_path: Path
) -> None:
    token = synapse.fresh_user("eva").access_token
    recovery_key = await set_up_recovery(bot, clock)
    await bot.start(clock)
    first = seen_by_resident(synapse, token, bot)
    await bot.stop()

    moved = new_machine(bot, tmp_path)
    line = await restore_command(moved.settings, bot.app.adapter_store, recovery_key)
    assert first["master"] in line and "\n" not in line
    try:
        await moved.start(clock)
        again = seen_by_resident(synapse, token, moved)  # asserts the device is signed
        assert again["device"] != first["device"]
        assert (again["master"], again["ssk"]) == (first["master"], first["ssk"])
        assert master_signed_by_device(synapse, moved)
        assert moved.adapter.identity_uploads == []  # restore signed this device already
    finally:
        await moved.stop()


@pytest.mark.parametrize("mistake", ["another key", "a typing error"])
async def test_a_wrong_recovery_key_says_so_in_one_line_and_changes_nothing(
    bot: Bot, synapse: SynapseServer, clock: FrozenClock, tmp_path: Path, mistake: str
) -> None:
    token = synapse.fresh_user("eva").access_token
    recovery_key = await set_up_recovery(bot, clock)
    await bot.start(clock)
    first = seen_by_resident(synapse, token, bot)
    await bot.stop()
    stored_before = [account_data(synapse, bot, name) for name in NAMES]

    if mistake == "another key":
        wrong = encode_recovery_key(secrets.token_bytes(32))
    else:
        i = 7 if recovery_key[7] != "x" else 8
        wrong = recovery_key[:i] + "x" + recovery_key[i + 1 :]
    moved = new_machine(bot, tmp_path)
    with pytest.raises(RecoveryError) as refused:
        await restore_command(moved.settings, bot.app.adapter_store, wrong)
    message = str(refused.value)
    assert "\n" not in message and "recovery key" in message
    assert not key_path(moved.settings).exists()
    assert [account_data(synapse, bot, name) for name in NAMES] == stored_before
    await bot.start(clock)  # the old machine is untouched
    assert seen_by_resident(synapse, token, bot)["master"] == first["master"]


def test_the_operator_moves_the_bot_with_the_commands(
    synapse: SynapseServer,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`wijkbot matrix recovery setup` on the old machine, `restore` on the new one."""
    from bot.cli import main

    account = synapse.fresh_user("wijkbot")
    for name, value in {
        "DATABASE_URL": db_url,
        "DATA_DIR": str(tmp_path / "old"),
        "MATRIX_HOMESERVER": synapse.url,
        "MATRIX_USER_ID": account.user_id,
        "MATRIX_PASSWORD": account.password,
    }.items():
        monkeypatch.setenv(f"WIJKBOT_{name}", value)
    assert main(["matrix", "recovery", "setup"]) == 0
    (recovery_key,) = RECOVERY_KEY.findall(capsys.readouterr().out)

    monkeypatch.setenv("WIJKBOT_DATA_DIR", str(tmp_path / "new"))
    monkeypatch.setenv(
        "WIJKBOT_MATRIX_RECOVERY_KEY", recovery_key[:-1] + ("2" if recovery_key[-1] == "1" else "1")
    )
    assert main(["matrix", "recovery", "restore"]) == 2
    said = capsys.readouterr()
    assert said.out == "" and said.err.count("\n") == 1 and "recovery key" in said.err
    assert not (tmp_path / "new" / "matrix-identity.json").exists()

    monkeypatch.setenv("WIJKBOT_MATRIX_RECOVERY_KEY", recovery_key)
    assert main(["matrix", "recovery", "restore"]) == 0
    assert "Matrix identity restored: master key" in capsys.readouterr().out
    assert (tmp_path / "new" / "matrix-identity.json").exists()
