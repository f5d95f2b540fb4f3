"""The file with the bot's Matrix identity keys: sealed with the installation's secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from unpaddedbase64 import encode_base64

from bot.adapters.matrix.identity import IdentityError, SigningKeys, load_keys, save_keys
from bot.core.secret_key import SecretKey

USER = "@wijkbot:example.org"


def test_keys_come_back_only_to_the_same_secret_and_account(tmp_path: Path) -> None:
    path = tmp_path / "data" / "matrix-identity.json"
    keys = SigningKeys.generate()
    save_keys(path, keys, SecretKey(b"a" * 32), USER)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    seed = keys.master.private_bytes_raw()
    assert encode_base64(seed) not in path.read_text()  # not stored in the clear
    back = load_keys(path, SecretKey(b"a" * 32), USER)
    assert back is not None
    assert back.objects(USER) == keys.objects(USER)

    with pytest.raises(IdentityError, match=r"another secret key.*restore that secret key"):
        load_keys(path, SecretKey(b"b" * 32), USER)
    with pytest.raises(IdentityError, match=r"belongs to @wijkbot:example\.org"):
        load_keys(path, SecretKey(b"a" * 32), "@other:example.org")


def test_missing_file_is_none_and_a_damaged_one_says_so(tmp_path: Path) -> None:
    path = tmp_path / "matrix-identity.json"
    assert load_keys(path, SecretKey(b"a" * 32), USER) is None
    path.write_text("{not json")
    with pytest.raises(IdentityError, match="cannot read the Matrix identity file"):
        load_keys(path, SecretKey(b"a" * 32), USER)
    save_keys(path, SigningKeys.generate(), SecretKey(b"a" * 32), USER)
    doc = path.read_text().replace('"sealed": "', '"sealed": "AAAA')
    path.write_text(doc)
    with pytest.raises(IdentityError):
        load_keys(path, SecretKey(b"a" * 32), USER)
