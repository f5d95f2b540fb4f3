"""A long overview is packed into messages under the limit, blocks kept whole where they fit."""

from __future__ import annotations

from bot.util.pack import pack


def test_blocks_stay_whole_and_messages_stay_under_the_limit() -> None:
    blocks = ["a" * 30, "b\n" * 10 + "b", "c" * 45, "d"]
    parts = pack(blocks, limit=50)
    assert all(len(p) <= 50 for p in parts)
    assert parts[0] == "a" * 30 and parts[1].startswith("b\nb")  # "b…" did not fit after "a…"
    assert "\n\n".join(parts) == "\n\n".join(blocks)  # nothing lost, nothing added


def test_a_block_longer_than_a_message_is_split_between_lines() -> None:
    block = "\n".join(f"regel {n:03}" for n in range(100))  # 999 characters
    parts = pack([block], limit=100)
    assert all(len(p) <= 100 for p in parts)
    assert "\n".join(parts) == block
    assert pack(["x" * 250], limit=100) == ["x" * 100, "x" * 100, "x" * 50]  # one long line
    assert pack([]) == [] and pack(["", ""]) == []
