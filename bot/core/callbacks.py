"""Typed button data, in the shape of aiogram's `CallbackData`.

A button carries a short string back to us, and whoever presses it controls that string:
it can be stale (a message from before a change), damaged, or forged. So each kind of button
declares its fields once, and the string is packed and read in one place:

    class PollVote(CallbackData, prefix="pv"):
        poll: int
        option: int

    Button(label, PollVote(poll.id, 2).pack())        # "pv:7:2"
    vote = PollVote.of(ctx)                           # in the handler

Fields are `int` (0 … 2³¹−1, so a forged huge id never reaches the database), `str`
(without ":"), a `Literal` of words, or a union of those; a field with a default may be left
off the end ("pc:7" and "pc:7:yes"). Anything that does not read raises `StaleButton`, which
the dispatcher answers kindly ("This button no longer works."), with the class's hint.
Prefixes are registered: a second class with the same prefix fails at import. Telegram
allows 64 bytes of data; `pack` refuses more.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, ClassVar, Literal, Self, Union, dataclass_transform, get_args, get_origin

from bot.core.errors import UserFacingError
from bot.core.i18n import _
from bot.core.text import MAX_WHOLE, whole_number

MAX_BYTES = 64  # Telegram's limit for callback_data
MAX_ID = MAX_WHOLE  # the largest id the databases hold (INTEGER)
SEPARATOR = ":"

_registry: dict[str, type[CallbackData]] = {}


class StaleButton(UserFacingError):
    """A button whose data we cannot read: old, damaged or forged."""

    def __init__(self, hint: str = "") -> None:
        text = _("This button no longer works.")
        super().__init__(f"{text} {_(hint)}" if hint else text)


@dataclass_transform(frozen_default=True)
class CallbackData:
    """Subclass with `prefix=` (and optionally `hint=`, a msgid said when it is stale)."""

    prefix: ClassVar[str]
    hint: ClassVar[str]
    _fields: ClassVar[tuple[tuple[str, Any, bool], ...]]  # name, type, has a default

    def __init_subclass__(cls, *, prefix: str, hint: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not prefix or SEPARATOR in prefix:
            raise ValueError(f"bad callback prefix {prefix!r}")
        if prefix in _registry:
            raise ValueError(f"callback prefix {prefix!r} is used by {_registry[prefix].__name__}")
        cls.prefix = prefix
        cls.hint = hint
        dataclasses.dataclass(frozen=True, slots=False)(cls)
        hints = typing.get_type_hints(cls)
        cls._fields = tuple(
            (f.name, hints[f.name], f.default is not dataclasses.MISSING)
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        )
        _registry[prefix] = cls

    def pack(self) -> str:
        values = [getattr(self, name) for name, _type, _default in self._fields]
        while values and values[-1] is None:
            values.pop()  # optional fields at the end are left off
        parts = [self.prefix]
        for (name, _type, _default), value in zip(self._fields, values, strict=False):
            text = _encode(value)
            if SEPARATOR in text:
                raise ValueError(f"{type(self).__name__}.{name} may not contain {SEPARATOR!r}")
            parts.append(text)
        data = SEPARATOR.join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def unpack(cls, data: str | None) -> Self:
        """The button's fields; `StaleButton` when `data` is not one of ours any more."""
        prefix, _sep, rest = (data or "").partition(SEPARATOR)
        if prefix != cls.prefix:
            raise StaleButton(cls.hint)
        parts = rest.split(SEPARATOR) if rest else []
        required = sum(1 for _n, _t, has_default in cls._fields if not has_default)
        if not required <= len(parts) <= len(cls._fields):
            raise StaleButton(cls.hint)
        values: dict[str, Any] = {}
        for (name, kind, _default), part in zip(cls._fields, parts, strict=False):
            try:
                values[name] = _decode(part, kind)
            except ValueError:
                raise StaleButton(cls.hint) from None
        return cls(**values)

    @classmethod
    def of(cls, ctx: Any) -> Self:
        """The pressed button's fields (`ctx.event.button_data`)."""
        return cls.unpack(ctx.event.button_data)


def registered() -> dict[str, type[CallbackData]]:
    """Every declared kind of button, by prefix (for tests and documentation)."""
    return dict(_registry)


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError("use a Literal of words, not bool, in button data")
    return str(value)


def _decode(text: str, kind: Any) -> Any:
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        for member in get_args(kind):
            if member is type(None):
                continue
            try:
                return _decode(text, member)
            except ValueError:
                continue
        raise ValueError(text)
    if origin is Literal:
        if text in get_args(kind):
            return text
        raise ValueError(text)
    if kind is int:
        number = whole_number(text) if text.isascii() else None  # ours are written in ASCII
        if number is None:
            raise ValueError(text)
        return number
    if kind is str:
        if not text:
            raise ValueError(text)
        return text
    raise TypeError(f"unsupported field type {kind!r} in button data")
