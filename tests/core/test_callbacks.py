"""Typed button data: packed and read in one place; stale, damaged or forged data is refused."""

from __future__ import annotations

from typing import Literal

import pytest

from bot.core.callbacks import MAX_ID, CallbackData, StaleButton, registered
from bot.core.i18n import use_locale


class Vote(CallbackData, prefix="t-vote"):
    poll: int
    option: int


class Close(CallbackData, prefix="t-close", hint="Type /peilingen to see your polls."):
    poll: int
    confirm: Literal["yes"] | None = None


class Round(CallbackData, prefix="t-round"):
    round: int | Literal["new"]
    action: Literal["show", "check"] | None = None
    project: int | None = None


def test_pack_and_unpack_round_trip() -> None:
    assert Vote(poll=7, option=2).pack() == "t-vote:7:2"
    assert Vote.unpack("t-vote:7:2") == Vote(poll=7, option=2)
    assert Close(poll=7).pack() == "t-close:7"  # optional fields at the end are left off
    assert Close.unpack("t-close:7:yes") == Close(poll=7, confirm="yes")
    assert Round.unpack("t-round:new") == Round(round="new")
    assert Round.unpack("t-round:3:check:9") == Round(round=3, action="check", project=9)


@pytest.mark.parametrize(
    ("kind", "data"),
    [(Vote, None), (Vote, ""), (Vote, "t-vote"), (Vote, "t-vote:7"), (Vote, "t-vote:7:2:9"),
     (Vote, "t-vote:x:2"), (Vote, "t-vote:-1:2"), (Vote, "t-vote:7:"), (Vote, f"t-vote:{MAX_ID + 1}:1"),
     (Vote, "t-vote:99999999999999999999:1"), (Vote, "t-vote:１２:1"), (Vote, "t-vote: 7:1"),
     (Vote, "t-vote:7:2\x00"), (Vote, "other:7:2"), (Close, "t-close:7:no"), (Round, "t-round:old"),
     (Round, "t-round:3:delete")],
)  # fmt: skip
def test_stale_damaged_or_forged_data_is_refused(
    kind: type[CallbackData], data: str | None
) -> None:
    with pytest.raises(StaleButton):
        kind.unpack(data)


def test_the_stale_answer_is_kind_and_in_the_persons_language() -> None:
    with use_locale("en"), pytest.raises(StaleButton) as caught:
        Close.unpack("t-close:x")
    assert caught.value.message == "This button no longer works. Type /peilingen to see your polls."
    with use_locale("nl"), pytest.raises(StaleButton) as dutch:
        Vote.unpack("t-vote")
    assert dutch.value.message != "This button no longer works."


def test_a_prefix_is_used_once() -> None:
    with pytest.raises(ValueError, match="used by Vote"):

        class Again(CallbackData, prefix="t-vote"):
            poll: int


def test_telegram_limit_of_64_bytes() -> None:
    class Long(CallbackData, prefix="t-long"):
        text: str

    assert len(Long(text="x" * 57).pack()) == 64
    with pytest.raises(ValueError, match="64 bytes"):
        Long(text="x" * 58).pack()
    with pytest.raises(ValueError, match="may not contain"):
        Long(text="a:b").pack()


def test_every_button_of_the_bot_is_registered_once() -> None:
    import bot.handlers  # noqa: F401  -- registers every kind of button

    kinds = registered()
    assert len(set(kinds.values())) == len(kinds)
    assert all(len(prefix) <= 8 for prefix in kinds)
