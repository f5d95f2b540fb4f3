"""Commands typed in text: punctuation after the name, and commands meant for another bot."""

from __future__ import annotations

from bot.core.commands import addressed_elsewhere, parse_command


def test_commands_with_punctuation() -> None:
    assert parse_command("/melding: glas op het fietspad") == ("melding", "glas op het fietspad")
    assert parse_command("/idee, meer bankjes") == ("idee", "meer bankjes")
    assert parse_command("/help@OtherBot", "WijkbotBot") is None
    assert addressed_elsewhere("/help@OtherBot", "WijkbotBot")
    assert not addressed_elsewhere("/help@wijkbotbot", "WijkbotBot")
    assert parse_command("/ hallo") is None
