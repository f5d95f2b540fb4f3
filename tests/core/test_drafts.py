"""A draft is validated once per step, and never read stale after the dialog changed."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

import pytest
from pydantic import ValidationError

from bot.core.dialog import Dialog
from bot.core.drafts import Draft
from bot.core.events import ChatRef, UserRef
from bot.core.states import State

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bot.core.context import Ctx


class Counted(Draft):
    seats: int


def _ctx() -> tuple[Ctx, Dialog]:
    dialog = Dialog(cast("AsyncSession", None), ChatRef("fake", "c"), UserRef("fake", "u"))
    return cast("Ctx", SimpleNamespace(dialog=dialog)), dialog


def test_one_validation_per_change_and_never_stale() -> None:
    ctx, dialog = _ctx()
    dialog.update(seats=12)
    first = Counted.of(ctx)
    assert Counted.holds(ctx) and Counted.of(ctx) is first  # the guard's read is the step's
    dialog.update(seats=24)
    assert Counted.of(ctx).seats == 24
    dialog.goto(State("Test.next"), seats=36)
    assert Counted.of(ctx).seats == 36
    dialog.data["seats"] = "veel"  # a direct write, as interrupt.py does, then update()
    dialog.update()
    assert not Counted.holds(ctx)
    with pytest.raises(ValidationError):
        Counted.of(ctx)
    dialog.clear()
    assert not Counted.holds(ctx)
