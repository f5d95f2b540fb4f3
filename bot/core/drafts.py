"""Typed dialog drafts: what a dialog has gathered so far, declared and validated when read.

A dialog's data is stored as JSON between messages; it can be old (written by an earlier
version), damaged, or tampered with in a copy of the database. A step declares the draft it
needs (`@guarded("peiling", PollDraft)`), and reads it typed (`PollDraft.of(ctx)`) instead
of reaching into `ctx.dialog.data`. A draft that does not validate starts the dialog again
kindly ("I lost track of this conversation") instead of failing half-way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:
    from bot.core.context import Ctx


class Draft(BaseModel):
    # Other keys in the dialog (sticky values, remembered buttons) are not the draft's business.
    model_config = ConfigDict(extra="ignore")

    @classmethod
    def of(cls, ctx: Ctx) -> Self:
        """The draft in this dialog; `ValidationError` when it is missing or damaged."""
        return cls.model_validate(ctx.dialog.data)

    @classmethod
    def holds(cls, data: dict[str, Any]) -> bool:
        try:
            cls.model_validate(data)
        except ValidationError:
            return False
        return True

    def save(self, ctx: Ctx) -> None:
        """Write the draft back into the dialog (as JSON: dates as ISO text)."""
        ctx.dialog.update(**self.model_dump(mode="json"))
