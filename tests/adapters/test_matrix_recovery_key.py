"""The recovery key's format (the Matrix spec, "Secret storage": recovery key)."""

from __future__ import annotations

from bot.adapters.matrix.recovery import (
    b58decode,
    b58encode,
    decode_recovery_key,
    encode_recovery_key,
)


def test_recovery_key_has_the_spec_framing() -> None:
    """0x8B 0x01, 32 key bytes, a parity byte that XORs everything to zero; base58."""
    assert b58encode(b"\0\0hello") == "11Cn8eVZg"  # Bitcoin's alphabet, leading zeros as 1
    assert b58decode("11Cn8eVZg") == b"\0\0hello"
    key = bytes(range(32))
    text = encode_recovery_key(key)
    raw = b58decode(text.replace(" ", ""))
    assert raw[:2] == b"\x8b\x01" and raw[2:34] == key and len(raw) == 35
    parity = 0
    for byte in raw:
        parity ^= byte
    assert parity == 0
    assert decode_recovery_key(text) == key
    assert text.startswith("Es")  # every recovery key Element shows starts so
