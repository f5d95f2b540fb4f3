"""Optional recovery: the identity's private keys in the homeserver's secret storage (SSSS).

`wijkbot matrix recovery setup` makes a new secret-storage key and stores the three
cross-signing private keys in the bot's account data (``m.cross_signing.master``,
``.self_signing``, ``.user_signing``), encrypted as the Matrix spec's "Secrets" module says
(``m.secret_storage.v1.aes-hmac-sha2``: HKDF-SHA256 → AES-256-CTR + HMAC-SHA256). The key
is shown once as a recovery key (base58, prefix 0x8B 0x01, parity byte), in the format
Element shows and accepts. `wijkbot matrix recovery restore` takes that recovery key on a
new machine (empty data directory, same account), reads the keys back, checks them against
the master key on the homeserver and writes ``matrix-identity.json`` for this machine's
secret key; the device it logged in with is signed by the same identity.

Library pieces: HKDF, AES-CTR and HMAC from `cryptography`. Written here: base58 (no
base58 library is installed; ten lines), the recovery-key framing, and the account-data
requests (matrix-nio 0.26 has no secret storage and no call to read account data).

No server-side key backup (m.megolm_backup.v1) yet: the bot never reads old history, and
a device signed by its identity gets the room keys of new messages from residents' clients.
Only a message sent while the bot moves, in a room key the old device alone had, stays
unreadable; the bot asks for the key and otherwise tells the resident (inbound.py).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import secrets
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nio import AsyncClient
from unpaddedbase64 import decode_base64, encode_base64

from bot.adapters.matrix.identity import (
    USAGES,
    CrossSigning,
    IdentityError,
    SigningKeys,
    ensure_identity,
    key_path,
    load_keys,
    public_b64,
    public_of,
    save_keys,
)
from bot.adapters.matrix.session import MatrixSession
from bot.config import Settings
from bot.core.ports import AdapterStore
from bot.core.secret_key import load_secret_key

ALGORITHM = "m.secret_storage.v1.aes-hmac-sha2"
DEFAULT_KEY = "m.secret_storage.default_key"
KEY_PREFIX = "m.secret_storage.key."
SECRETS = {usage: f"m.cross_signing.{usage}" for usage in USAGES}
RECOVERY_PREFIX = b"\x8b\x01"
ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class RecoveryError(IdentityError):
    """Recovery cannot go on; the message (one line) says why."""


# -- base58 and the recovery key -------------------------------------------------------------


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = ALPHABET[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + ALPHABET.index(char)  # ValueError for a foreign character
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def _parity(data: bytes) -> int:
    parity = 0
    for byte in data:
        parity ^= byte
    return parity


def encode_recovery_key(key: bytes) -> str:
    """The spec's recovery key: base58 of 0x8B 0x01, the key, a parity byte; groups of 4."""
    raw = RECOVERY_PREFIX + key
    text = b58encode(raw + bytes([_parity(raw)]))
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def decode_recovery_key(text: str) -> bytes:
    try:
        raw = b58decode("".join(text.split()))
    except ValueError:
        raise RecoveryError(
            "this is not a recovery key (it has a character base58 lacks)"
        ) from None
    if len(raw) != 35 or not raw.startswith(RECOVERY_PREFIX) or _parity(raw) != 0:
        raise RecoveryError("this is not a recovery key (wrong length or a typing error)")
    return raw[2:34]


# -- m.secret_storage.v1.aes-hmac-sha2 -------------------------------------------------------


def _keys(key: bytes, name: str) -> tuple[bytes, bytes]:
    derived = HKDF(algorithm=hashes.SHA256(), length=64, salt=bytes(32), info=name.encode())
    both = derived.derive(key)
    return both[:32], both[32:]


def _ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return cipher.update(data) + cipher.finalize()


def encrypt_secret(key: bytes, name: str, plain: str, iv: bytes | None = None) -> dict[str, str]:
    aes_key, mac_key = _keys(key, name)
    if iv is None:
        fresh = bytearray(os.urandom(16))
        fresh[8] &= 0x7F  # bit 63 cleared, as the spec says (some counters do not carry)
        iv = bytes(fresh)
    ciphertext = _ctr(aes_key, iv, plain.encode())
    mac = hmac.new(mac_key, ciphertext, "sha256").digest()
    return {
        "iv": encode_base64(iv),
        "ciphertext": encode_base64(ciphertext),
        "mac": encode_base64(mac),
    }


def decrypt_secret(key: bytes, name: str, item: dict[str, Any]) -> str | None:
    """The secret, or None when the MAC does not match (another key) or it is damaged."""
    try:
        iv, ciphertext = decode_base64(item["iv"]), decode_base64(item["ciphertext"])
        mac = decode_base64(item["mac"])
    except (KeyError, TypeError, ValueError):
        return None
    aes_key, mac_key = _keys(key, name)
    if not hmac.compare_digest(hmac.new(mac_key, ciphertext, "sha256").digest(), mac):
        return None
    try:
        return _ctr(aes_key, iv, ciphertext).decode()
    except (UnicodeDecodeError, ValueError):
        return None


def key_description(key: bytes) -> dict[str, str]:
    """`m.secret_storage.key.<id>`: the MAC of 32 zero bytes lets a client check a key."""
    check = encrypt_secret(key, "", "\0" * 32)
    return {"name": "Wijkbot", "algorithm": ALGORITHM, "iv": check["iv"], "mac": check["mac"]}


def key_matches(key: bytes, description: dict[str, Any]) -> bool:
    if description.get("algorithm") != ALGORITHM or "iv" not in description:
        return False
    try:
        check = encrypt_secret(key, "", "\0" * 32, iv=decode_base64(description["iv"]))
    except (TypeError, ValueError):
        return False
    return hmac.compare_digest(check["mac"].rstrip("="), str(description.get("mac")).rstrip("="))


# -- account data ----------------------------------------------------------------------------


class AccountData:
    """GET and PUT of the bot's own account data."""

    def __init__(self, client: AsyncClient) -> None:
        assert client.user_id
        self.client = client
        self.user_id: str = client.user_id

    def _path(self, kind: str) -> str:
        user, kind = quote(self.user_id, safe=""), quote(kind, safe="")
        return f"/_matrix/client/v3/user/{user}/account_data/{kind}"

    async def get(self, kind: str) -> dict[str, Any] | None:
        status, body = await self._request("GET", kind, None)
        if status == 404:
            return None
        if status != 200:
            raise RecoveryError(f"the homeserver refused to give {kind}: {status}")
        return body

    async def put(self, kind: str, content: dict[str, Any]) -> None:
        status, _ = await self._request("PUT", kind, content)
        if status != 200:
            raise RecoveryError(f"the homeserver refused to store {kind}: {status}")

    async def _request(
        self, method: str, kind: str, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any]]:
        resp = await self.client.send(
            method,
            self._path(kind),
            None if body is None else json.dumps(body),
            headers={
                "Authorization": f"Bearer {self.client.access_token}",
                "Content-Type": "application/json",
            },
        )
        try:
            data = await resp.json(content_type=None)
        except ValueError:
            data = {}
        return resp.status, data if isinstance(data, dict) else {}


async def store_secrets(client: AsyncClient, keys: SigningKeys) -> str:
    """A new secret-storage key holding the three private keys; returns the recovery key."""
    key = secrets.token_bytes(32)
    key_id = secrets.token_urlsafe(24)
    data = AccountData(client)
    await data.put(KEY_PREFIX + key_id, key_description(key))
    seeds = keys.seeds()
    for usage, name in SECRETS.items():
        await data.put(name, {"encrypted": {key_id: encrypt_secret(key, name, seeds[usage])}})
    await data.put(DEFAULT_KEY, {"key": key_id})  # last: the new key is complete
    return encode_recovery_key(key)


async def read_secrets(client: AsyncClient, key: bytes) -> SigningKeys:
    """The three private keys from secret storage, opened with `key`."""
    data = AccountData(client)
    default = await data.get(DEFAULT_KEY)
    key_id = (default or {}).get("key")
    description = await data.get(KEY_PREFIX + str(key_id)) if key_id else None
    if not description:
        raise RecoveryError(
            f"{client.user_id} has no secret storage: run `wijkbot matrix recovery setup` "
            "on the machine that has the identity"
        )
    if not key_matches(key, description):
        raise RecoveryError("this recovery key does not open the bot's secret storage")
    seeds: dict[str, str] = {}
    for usage, name in SECRETS.items():
        item = ((await data.get(name)) or {}).get("encrypted", {}).get(key_id)
        plain = decrypt_secret(key, name, item) if isinstance(item, dict) else None
        if plain is None:
            raise RecoveryError(f"the secret storage lacks {name} or it is damaged")
        seeds[usage] = plain
    try:
        return SigningKeys.from_seeds(seeds)
    except ValueError:
        raise RecoveryError("the keys in the secret storage are damaged") from None


# -- the commands ----------------------------------------------------------------------------


async def _connected(settings: Settings, store: AdapterStore) -> MatrixSession:
    session = MatrixSession(settings, store)
    await session.connect(asyncio.Event())
    return session


async def setup_command(settings: Settings, store: AdapterStore) -> str:
    """`wijkbot matrix recovery setup`: returns the text with the recovery key (shown once)."""
    session = await _connected(settings, store)
    try:
        await ensure_identity(session)  # the identity in place and matching the homeserver
        keys = load_keys(key_path(settings), load_secret_key(settings), session.user_id)
        assert keys is not None and session.client is not None
        recovery_key = await store_secrets(session.client, keys)
    finally:
        await session.close()
    return (
        "The bot's identity keys are now in secret storage on the homeserver.\n"
        f"Recovery key (shown only now; an older one no longer works):\n\n    {recovery_key}\n\n"
        "Keep it safe, apart from the server (a password manager, a safe). With it and the "
        "bot's account a new machine can take over the bot: `wijkbot matrix recovery restore`."
    )


async def restore_command(settings: Settings, store: AdapterStore, recovery_key: str) -> str:
    """`wijkbot matrix recovery restore`: the identity from secret storage onto this machine."""
    key = decode_recovery_key(recovery_key)  # a typing error stops here, before logging in
    path = key_path(settings)
    secret = load_secret_key(settings)
    session = await _connected(settings, store)
    try:
        assert session.client is not None
        if load_keys(path, secret, session.user_id) is not None:
            raise RecoveryError(f"{path} exists already: this machine has an identity")
        keys = await read_secrets(session.client, key)
        found = await CrossSigning(session.client, path, secret).query()
        server = public_of(found.get("master_keys", {}).get(session.user_id))
        if server != public_b64(keys.master):
            raise RecoveryError(
                f"the secret storage holds master key {public_b64(keys.master)}, but the "
                f"homeserver shows {server}: the storage is outdated; nothing was changed"
            )
        save_keys(path, keys, secret, session.user_id)
        await ensure_identity(session)  # signs the device this machine logged in with
    finally:
        await session.close()
    return f"Matrix identity restored: master key {server}; back up {path} and the secret key"
