"""Sealed ballots: unreadable in the database until the round closes.

Why: a voter-roll row and its ballot are written in one transaction, so anyone holding a
copy of the database taken during voting (a backup, the WAL, PostgreSQL's ``xmin``, the
SQLite file's byte order) could pair them. So during voting a ballot is stored only
*sealed*: encrypted with HPKE (RFC 9180: X25519, HKDF-SHA256, AES-128-GCM, from
``cryptography``) to the round's public key, and padded so every sealed ballot of a round
has the same length. The round's private key is derived from the installation's secret
key (:mod:`bot.core.secret_key`), which is never in the database. At closing the ballots
are opened and written again as plain ballots, all in one transaction, in a random order
under random ids; the sealed rows are deleted in that same transaction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import ConfigError, Settings
from bot.core.secret_key import SecretKey, load_secret_key
from storage.models import BudgetRound
from storage.repo import budgets

LEGACY = "legacy"  # rounds from before sealing: codes hashed with the round's salt only
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
_PAD_BLOCK = 64


class SealError(ConfigError):
    """A round was bound to another secret key than the one configured."""


def _json(choices: Any) -> bytes:
    return json.dumps(choices, separators=(",", ":"), sort_keys=True).encode()


def _padded_length(round_: BudgetRound, ballot_codes: Sequence[str]) -> int:
    """Longer than any valid ballot of this round (its projects are locked while voting)."""
    codes = sorted(ballot_codes)
    points = round_.points or 0
    largest = (
        _json({c: points for c in codes}) if round_.ballot_type == "cumulative" else _json(codes)
    )
    return _PAD_BLOCK * math.ceil((len(largest) + 1) / _PAD_BLOCK)


class BallotKeys:
    """Keys for voting codes and sealed ballots, all derived from the secret key."""

    def __init__(self, secret: SecretKey) -> None:
        self._secret = secret

    @property
    def key_id(self) -> str:
        return self._secret.fingerprint

    def bind(self, round_: BudgetRound) -> None:
        """Tie a new round to this key (the caller stores it); refuse another key's round."""
        self.check(round_)
        if round_.key_id is None:
            round_.key_id = self.key_id

    async def check_rounds(self, session: AsyncSession) -> None:
        """At start-up: refuse to run when a round that is not counted yet was set up with
        another key (a lost or swapped key file), instead of failing at its first vote."""
        for round_ in await budgets.rounds_in_progress(session):
            self.check(round_)

    def check(self, round_: BudgetRound) -> None:
        if round_.key_id not in (None, self.key_id, LEGACY):
            raise SealError(
                f"budget round {round_.id} was set up with another secret key "
                f"({round_.key_id}); restore that key file or WIJKBOT_SECRET_KEY"
            )

    def code_key(self, round_: BudgetRound) -> bytes:
        if round_.key_id == LEGACY:
            return bytes.fromhex(round_.code_salt)
        self.check(round_)
        return self._secret.derive("voting codes", bytes.fromhex(round_.code_salt))

    def _private(self, round_: BudgetRound) -> X25519PrivateKey:
        context = f"{round_.id}:{round_.code_salt}".encode()
        return X25519PrivateKey.from_private_bytes(self._secret.derive("ballot seal", context))

    def _info(self, round_: BudgetRound) -> bytes:
        return f"wijkbot ballot v1 round {round_.id}".encode()

    def seal(self, round_: BudgetRound, choices: Any, ballot_codes: Sequence[str]) -> bytes:
        """The canonical choices, padded to the round's fixed length and encrypted."""
        self.check(round_)
        plain = _json(choices)
        size = _padded_length(round_, ballot_codes)
        if len(plain) >= size:  # cannot happen for a valid ballot; never store it unpadded
            raise ValueError("ballot larger than the round's padded size")
        padded = plain + b"\x00" * (size - len(plain))
        return _SUITE.encrypt(padded, self._private(round_).public_key(), info=self._info(round_))

    def open(self, round_: BudgetRound, sealed: bytes) -> Any:
        self.check(round_)
        padded = _SUITE.decrypt(sealed, self._private(round_), info=self._info(round_))
        return json.loads(padded.rstrip(b"\x00"))


def keys_for(settings: Settings) -> BallotKeys:
    """The ballot keys of this installation (the key file is read once per process)."""
    return BallotKeys(load_secret_key(settings))
