"""The installation's secret key, kept outside the database it protects.

One random 32-byte secret per installation, in a file of its own (``secret_key_file``,
default ``<data dir>/secret.key``, created readable by the owner only) or in the
``WIJKBOT_SECRET_KEY`` setting (64 hex characters, e.g. a Docker secret). Purposes get
their own keys from it with HKDF (RFC 5869), so a key for one purpose tells nothing about
another: voting codes are hashed with one, ballots are sealed with another. A copy of the
database alone therefore cannot test voting codes or open a sealed ballot.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import ConfigError, Settings

KEY_BYTES = 32


class SecretKeyError(ConfigError):
    """The key file is unreadable or damaged; the message says what to do."""


class SecretKey:
    """Derives one key per purpose; never prints or logs the secret."""

    __slots__ = ("_master",)

    def __init__(self, master: bytes) -> None:
        if len(master) != KEY_BYTES:
            raise SecretKeyError(f"the secret key must be {KEY_BYTES} bytes")
        self._master = master

    def derive(self, purpose: str, context: bytes = b"", length: int = 32) -> bytes:
        info = purpose.encode() + b"\x00" + context
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(
            self._master
        )

    @property
    def fingerprint(self) -> str:
        """A public name for this key (which key sealed a round), not a secret."""
        return hmac.new(self._master, b"wijkbot key fingerprint", hashlib.sha256).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"SecretKey({self.fingerprint})"


def key_file(settings: Settings) -> Path:
    return settings.secret_key_file or settings.data_dir / "secret.key"


def load_secret_key(settings: Settings) -> SecretKey:
    """The configured secret, or the key file's; a missing file is created (0600)."""
    if settings.secret_key is not None:
        return _from_hex(settings.secret_key.get_secret_value(), "WIJKBOT_SECRET_KEY")
    path = key_file(settings).resolve()
    if not path.exists():
        _create(path)
    try:
        changed = path.stat().st_mtime_ns
    except OSError as exc:
        raise SecretKeyError(f"cannot read the secret key file {path}: {exc.strerror}") from None
    return _from_file(str(path), changed)


def _from_hex(value: str, where: str) -> SecretKey:
    try:
        raw = bytes.fromhex(value.strip())
    except ValueError:
        raise SecretKeyError(f"{where}: expected {KEY_BYTES * 2} hexadecimal characters") from None
    if len(raw) != KEY_BYTES:
        raise SecretKeyError(f"{where}: expected {KEY_BYTES * 2} hexadecimal characters")
    return SecretKey(raw)


def _create(file: Path) -> None:
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it just now: use theirs
        return
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(KEY_BYTES) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


@lru_cache(maxsize=8)
def _from_file(path: str, changed: int) -> SecretKey:
    """The key in `path` as it was at modification time `changed` (read once per change)."""
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise SecretKeyError(f"cannot read the secret key file {file}: {exc.strerror}") from None
    return _from_hex(text, f"the secret key file {file}")
