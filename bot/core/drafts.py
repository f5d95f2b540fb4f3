"""Typed dialog drafts: what a dialog has gathered so far, declared and validated when read.

A dialog's data is stored as JSON between messages; it can be old (written by an earlier
version), damaged, or tampered with in a copy of the database. A step declares the draft it
needs (`@guarded("peiling", PollDraft)`), and reads it typed (`PollDraft.of(ctx)`) instead
of reaching into `ctx.dialog.data`. A draft that does not validate starts the dialog again
kindly ("I lost track of this conversation") instead of failing half-way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Self, cast

from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:
    from bot.core.context import Ctx


class Draft(BaseModel):
    # Other keys in the dialog (sticky values, remembered buttons) are not the draft's business.
    model_config = ConfigDict(extra="ignore")

    @classmethod
    def of(cls, ctx: Ctx) -> Self:
        """The draft in this dialog; `ValidationError` when it is missing or damaged.

        Read once while the dialog is unchanged: the guard's check and the step's read are one
        validation."""
        parsed = ctx.dialog.parsed.get(cls)
        if parsed is None:
            parsed = ctx.dialog.parsed[cls] = cls.model_validate(ctx.dialog.data)
        return cast("Self", parsed)

    @classmethod
    def holds(cls, ctx: Ctx) -> bool:
        try:
            cls.of(ctx)
        except ValidationError:
            return False
        return True

    def save(self, ctx: Ctx) -> None:
        """Write the draft back into the dialog (as JSON: dates as ISO text)."""
        ctx.dialog.update(**self.model_dump(mode="json"))


def one_of(choices: Collection[str]) -> Callable[[str], str]:
    """A draft field's check: the text is one of `choices` (`Annotated[str, AfterValidator(...)]`)."""

    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"not one of {sorted(choices)}")
        return value

    return check
