"""The bot's cross-signing identity: master, self-signing and user-signing keys.

Element shows a red shield on messages from a device its owner has not signed, and with
"exclude insecure devices" (MSC4153) it sends such a device no room keys at all. So the bot
signs its own device the way Element does for a person: one master key (the identity),
a self-signing key signed by it, and the device signed by the self-signing key. The
master key is also signed by the device, as Element does after bootstrapping.

The private keys live in ``<data dir>/matrix-identity.json`` (mode 0600), encrypted with
AES-GCM under a key derived from the installation's secret key (bot.core.secret_key), bound
to the account. A restart finds the file and the same keys on the homeserver: nothing is
uploaded. A new device (the crypto store was lost) is signed by the same identity. When the
homeserver holds a master key the file does not match (the file was lost), the bot stops
with one line and never replaces the identity by itself: `wijkbot matrix reset-identity`.

Library pieces: Ed25519 keys and signatures from `cryptography`; the device's own
signature from nio's Olm account (`OlmMachine.sign_json`); canonical JSON from nio
(`Api.to_canonical_json`). matrix-nio 0.26 has no cross-signing and vodozemac's Python
bindings expose no Ed25519 secret key, so the key objects, the upload requests (with
user-interactive auth) and the checks of what the homeserver holds are written here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nio import AsyncClient
from nio.api import Api
from unpaddedbase64 import decode_base64, encode_base64

from bot.adapters.matrix.session import MatrixLoginError, MatrixSession
from bot.config import Settings
from bot.core.ports import AdapterStore
from bot.core.secret_key import SecretKey, load_secret_key

log = logging.getLogger(__name__)

KEY_FILE = "matrix-identity.json"
PURPOSE = "matrix cross-signing keys"
FILE_VERSION = 1
USAGES = ("master", "self_signing", "user_signing")


class IdentityError(MatrixLoginError):
    """The identity cannot be used or set up; the message (one line) says what to do."""


# -- keys and signatures ---------------------------------------------------------------------


def public_b64(key: Ed25519PrivateKey) -> str:
    return encode_base64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def signable(obj: dict[str, Any]) -> dict[str, Any]:
    """What a signature covers: the object without `signatures` and `unsigned`."""
    return {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}


def canonical(obj: dict[str, Any]) -> bytes:
    text: str = Api.to_canonical_json(signable(obj))
    return text.encode()


def sign(obj: dict[str, Any], user_id: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    """`obj` with only this key's signature (what the upload endpoints take)."""
    signature = encode_base64(key.sign(canonical(obj)))
    return {**signable(obj), "signatures": {user_id: {f"ed25519:{public_b64(key)}": signature}}}


def verify(obj: dict[str, Any], user_id: str, key_id: str, public: str) -> bool:
    """True when `obj` carries a valid signature of `user_id`'s key `key_id` (= `public`)."""
    signature = obj.get("signatures", {}).get(user_id, {}).get(key_id)
    if not isinstance(signature, str):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(decode_base64(public)).verify(
            decode_base64(signature), canonical(obj)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def key_object(user_id: str, usage: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    public = public_b64(key)
    return {"user_id": user_id, "usage": [usage], "keys": {f"ed25519:{public}": public}}


def public_of(obj: dict[str, Any] | None) -> str | None:
    """The one public key in a cross-signing key object."""
    if not obj:
        return None
    keys = list(obj.get("keys", {}).values())
    return str(keys[0]) if len(keys) == 1 else None


@dataclass(frozen=True)
class SigningKeys:
    master: Ed25519PrivateKey
    self_signing: Ed25519PrivateKey
    user_signing: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKeys:
        return cls(*(Ed25519PrivateKey.generate() for _ in USAGES))

    def objects(self, user_id: str) -> dict[str, dict[str, Any]]:
        """The three public key objects, the sub-keys signed by the master key."""
        master = key_object(user_id, "master", self.master)
        ssk = sign(key_object(user_id, "self_signing", self.self_signing), user_id, self.master)
        usk = sign(key_object(user_id, "user_signing", self.user_signing), user_id, self.master)
        return {"master_key": master, "self_signing_key": ssk, "user_signing_key": usk}

    def seeds(self) -> dict[str, str]:
        keys = (self.master, self.self_signing, self.user_signing)
        return {u: encode_base64(k.private_bytes_raw()) for u, k in zip(USAGES, keys, strict=True)}

    @classmethod
    def from_seeds(cls, seeds: dict[str, str]) -> SigningKeys:
        return cls(*(Ed25519PrivateKey.from_private_bytes(decode_base64(seeds[u])) for u in USAGES))


# -- the key file ----------------------------------------------------------------------------


def key_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / KEY_FILE


def save_keys(path: Path, keys: SigningKeys, secret: SecretKey, user_id: str) -> None:
    """Encrypted, 0600, replaced atomically (a crash leaves the old file or the new one)."""
    nonce = os.urandom(12)
    plain = json.dumps(keys.seeds()).encode()
    sealed = AESGCM(secret.derive(PURPOSE)).encrypt(nonce, plain, user_id.encode())
    doc = {
        "version": FILE_VERSION,
        "user_id": user_id,
        "secret_key": secret.fingerprint,
        "master_key": public_b64(keys.master),
        "nonce": encode_base64(nonce),
        "sealed": encode_base64(sealed),
    }
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def load_keys(path: Path, secret: SecretKey, user_id: str) -> SigningKeys | None:
    """The keys in `path`, None when there is no file; IdentityError when unusable."""
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IdentityError(f"cannot read the Matrix identity file {path}: {exc}") from None
    if doc.get("user_id") != user_id:
        raise IdentityError(
            f"the Matrix identity file {path} belongs to {doc.get('user_id')}, not {user_id}"
        )
    try:
        plain = AESGCM(secret.derive(PURPOSE)).decrypt(
            decode_base64(doc["nonce"]), decode_base64(doc["sealed"]), user_id.encode()
        )
        return SigningKeys.from_seeds(json.loads(plain))
    except InvalidTag:
        raise IdentityError(
            f"the Matrix identity file {path} was made with another secret key "
            f"(fingerprint {doc.get('secret_key')}, this one is {secret.fingerprint}); "
            "restore that secret key"
        ) from None
    except (KeyError, ValueError, TypeError):
        raise IdentityError(f"the Matrix identity file {path} is damaged") from None


async def ensure_identity(
    session: MatrixSession, password: str | None = None, *, replace: bool = False
) -> list[str]:
    """After login: our device keys on the homeserver, then the identity checked or set up.
    `password` (for user-interactive auth) defaults to the configured one."""
    client = session.client
    assert client is not None
    if client.should_upload_keys:
        await client.keys_upload()
    settings = session.settings
    if password is None and settings.matrix_password is not None:
        password = settings.matrix_password.get_secret_value()
    secret = load_secret_key(settings)
    return await CrossSigning(client, key_path(settings), secret).ensure(password, replace=replace)


# -- the homeserver --------------------------------------------------------------------------


class CrossSigning:
    """Checks and, where needed, sets up the identity of one logged-in client."""

    def __init__(self, client: AsyncClient, path: Path, secret: SecretKey) -> None:
        assert client.user_id and client.device_id
        self.client = client
        self.user_id: str = client.user_id
        self.device_id: str = client.device_id
        self.path = path
        self.secret = secret
        self.uploaded: list[str] = []  # what this run sent to the homeserver (for the log)

    async def ensure(self, password: str | None, *, replace: bool = False) -> list[str]:
        """Make the homeserver hold our identity with this device signed by it.
        Returns what was uploaded (empty when all was in place)."""
        keys = None if replace else load_keys(self.path, self.secret, self.user_id)
        server = await self.query()
        server_master = public_of(server.get("master_keys", {}).get(self.user_id))
        if keys is None and server_master is not None and not replace:
            raise IdentityError(
                f"the homeserver has a cross-signing identity for {self.user_id} "
                f"(master key {server_master}) but {self.path} is missing: restore it from "
                "your back-up, or run `wijkbot matrix reset-identity --replace` "
                "(residents then see a new identity)"
            )
        if keys is None:
            keys = SigningKeys.generate()
            save_keys(self.path, keys, self.secret, self.user_id)  # before the upload
        objects = keys.objects(self.user_id)
        ours = public_of(objects["master_key"])
        server_ssk = public_of(server.get("self_signing_keys", {}).get(self.user_id))
        if server_master is None or replace:
            await self._upload_keys(objects, password)
            server = await self.query()
        elif server_master != ours or server_ssk != public_of(objects["self_signing_key"]):
            raise IdentityError(
                f"the homeserver's cross-signing identity for {self.user_id} "
                f"(master key {server_master}) is not the one in {self.path} ({ours}): "
                "restore the matching file, or run `wijkbot matrix reset-identity --replace`"
            )
        await self._sign_missing(keys, server)
        return self.uploaded

    async def query(self) -> dict[str, Any]:
        status, body = await self._request("keys/query", {"device_keys": {self.user_id: []}})
        if status != 200:
            raise IdentityError(f"the homeserver refused /keys/query: {_why(status, body)}")
        return body

    async def _sign_missing(self, keys: SigningKeys, server: dict[str, Any]) -> None:
        """This device signed by the self-signing key, the master key by this device."""
        uid, dev = self.user_id, self.device_id
        device = server.get("device_keys", {}).get(uid, {}).get(dev)
        if device is None:
            raise IdentityError(f"the homeserver does not know the keys of device {dev} yet")
        ssk = public_b64(keys.self_signing)
        master = server["master_keys"][uid]
        signatures: dict[str, Any] = {}
        if not verify(device, uid, f"ed25519:{ssk}", ssk):
            signatures[dev] = sign(device, uid, keys.self_signing)
        device_key = device["keys"][f"ed25519:{dev}"]
        if not verify(master, uid, f"ed25519:{dev}", device_key):
            assert self.client.olm is not None
            signature = self.client.olm.sign_json(signable(master))
            signatures[public_b64(keys.master)] = {
                **signable(master),
                "signatures": {uid: {f"ed25519:{dev}": signature}},
            }
        if not signatures:
            return
        status, body = await self._request("keys/signatures/upload", {uid: signatures})
        if status != 200 or body.get("failures"):
            raise IdentityError(f"the homeserver refused the signatures: {_why(status, body)}")
        self.uploaded.append("signatures")
        log.info("matrix: signed device %s with the identity %s", dev, public_b64(keys.master))

    async def _upload_keys(self, objects: dict[str, Any], password: str | None) -> None:
        path = "keys/device_signing/upload"
        status, body = await self._request(path, objects)
        if status == 401 and "flows" in body:  # user-interactive auth
            if password is None:
                raise IdentityError(
                    "the homeserver wants the bot's password to set up its identity: "
                    "run `wijkbot matrix bootstrap` once"
                )
            auth = {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": self.user_id},
                "password": password,
                "session": body.get("session"),
            }
            status, body = await self._request(path, {**objects, "auth": auth})
        if status != 200:
            raise IdentityError(f"the homeserver refused the identity keys: {_why(status, body)}")
        self.uploaded.append("identity")
        log.warning(
            "matrix: uploaded a new identity (master key %s); back up %s and the secret key",
            public_of(objects["master_key"]),
            self.path,
        )

    async def _request(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        resp = await self.client.send(
            "POST",
            f"/_matrix/client/v3/{path}",
            json.dumps(body),
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


def _why(status: int, body: dict[str, Any]) -> str:
    return f"{status} {body.get('errcode', '')} {body.get('error', '')}".strip()


async def identity_command(
    settings: Settings, store: AdapterStore, password: str | None, *, replace: bool
) -> str:
    """`wijkbot matrix bootstrap` / `reset-identity --replace`: log in as the bot's device
    (the bot itself must not run meanwhile), set up or replace the identity; one line."""
    session = MatrixSession(settings, store)
    try:
        await session.connect(asyncio.Event())
        uploads = await ensure_identity(session, password, replace=replace)
    finally:
        await session.close()
    master = load_keys(key_path(settings), load_secret_key(settings), session.user_id)
    assert master is not None
    done = "set up" if uploads else "already in place"
    return f"Matrix identity {done}: master key {public_b64(master.master)}; back up {key_path(settings)}"
