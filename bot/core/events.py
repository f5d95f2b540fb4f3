"""Neutral value types shared by adapters, the dispatcher and handlers.

Adapters translate platform updates into these; handlers never see platform objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ChatKind = Literal["direct", "group"]
IncomingKind = Literal[
    "text",
    "command",
    "button",
    "location",
    "photo",
    "poll_answer",
    "joined",
    "left",
    "member_joined",  # someone else joined a group by themselves (`user.display_name`: first name)
]


@dataclass(frozen=True, slots=True)
class UserRef:
    platform: str
    id: str
    display_name: str | None = None
    language_code: str | None = None
    # The public name others can find this person by (a Telegram @username, without "@");
    # shared only in an introduction both sides agreed to.
    handle: str | None = None


@dataclass(frozen=True, slots=True)
class ChatRef:
    platform: str
    id: str
    kind: ChatKind = "direct"
    title: str | None = None


@dataclass(frozen=True, slots=True)
class MessageRef:
    chat: ChatRef
    id: str


@dataclass(frozen=True, slots=True)
class Button:
    """A button: `data` comes back as a button press; with `url` it opens a link instead."""

    label: str
    data: str
    url: str | None = None

    # Stored (dialog choices, outbox rows) as {"label", "data"} and "url" when it has one:
    # the one codec for buttons.
    def to_row(self) -> dict[str, str]:
        row = {"label": self.label, "data": self.data}
        return row if self.url is None else row | {"url": self.url}

    @classmethod
    def from_row(cls, row: Mapping[str, str]) -> Button:
        return cls(row["label"], row["data"], row.get("url"))


StoredKeyboard = list[list[dict[str, str]]]


def store_keyboard(rows: Iterable[Iterable[Button]]) -> StoredKeyboard:
    """Rows of buttons as stored in JSON (an outbox row's `buttons`)."""
    return [[b.to_row() for b in row] for row in rows]


def stored_keyboard(rows: Iterable[Iterable[Mapping[str, str]]]) -> Keyboard:
    """The stored rows back as buttons."""
    return tuple(tuple(Button.from_row(b) for b in row) for row in rows)


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the platform keeps for us; downloaded only when needed."""

    kind: Literal["photo"]
    file_id: str
    platform: str


@dataclass(frozen=True, slots=True)
class Incoming:
    kind: IncomingKind
    user: UserRef
    chat: ChatRef
    text: str = ""
    command: str | None = None
    args: str = ""
    button_data: str | None = None
    location: Location | None = None
    attachment: Attachment | None = None
    message: MessageRef | None = None
    reply_to: MessageRef | None = None
    poll_option_ids: tuple[int, ...] = ()
    # The inbox entry this event was kept in: marked handled in the same transaction as the
    # event's effects, so a crash can neither answer it twice nor lose it (bot/core/inbox.py).
    inbox_id: int | None = None


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class PollSpec:
    """A poll the platform may show natively (Matrix MSC3381); others use the buttons.

    `answer_ids` are the button data of the options, so a native answer and a button press
    arrive as the same thing.
    """

    question: str
    options: tuple[str, ...]
    answer_ids: tuple[str, ...]
    multiple: bool = False
    disclosed: bool = True  # results visible while the poll is open

    # Stored in an outbox row's `extra["poll"]`: the one codec for poll specs.
    def to_row(self) -> dict[str, object]:
        return {
            "question": self.question, "options": list(self.options),
            "answer_ids": list(self.answer_ids), "multiple": self.multiple,
            "disclosed": self.disclosed,
        }  # fmt: skip

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PollSpec:
        return cls(
            question=row["question"], options=tuple(row["options"]),
            answer_ids=tuple(row["answer_ids"]), multiple=bool(row.get("multiple")),
            disclosed=bool(row.get("disclosed", True)),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Document:
    """A file the bot made for someone to download (a Pabulib file of anonymous ballots)."""

    name: str
    data: bytes
    mimetype: str = "text/plain"


@dataclass(frozen=True, slots=True)
class NewRoom:
    """A room the platform creates before the message is sent into it (Matrix: a room for
    an initiative, with the people who agreed to meet invited). Platforms without the
    "rooms" capability send the text to the chat as usual."""

    name: str
    topic: str
    invite: tuple[str, ...]
    # What the room is for ("initiative:12"): made once per key, even when the message is
    # sent again after a crash; the sender reports the room made for it (`RoomMade`).
    key: str = ""

    # Stored in an outbox row's `extra["room"]`.
    def to_row(self) -> dict[str, object]:
        row: dict[str, object] = {"name": self.name, "topic": self.topic}
        return row | {"invite": list(self.invite), "key": self.key}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> NewRoom:
        return cls(
            str(row["name"]), str(row["topic"]), tuple(row["invite"]), str(row.get("key", ""))
        )


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    buttons: Keyboard = ()
    reply_to: MessageRef | None = None
    photo: Attachment | None = None  # a photo the platform already holds
    image: bytes | None = None  # a PNG the bot made (a chart); `text` is its caption
    document: Document | None = None  # a file sent with the text (platforms without: text only)
    poll: PollSpec | None = None
    # The results of the poll sent as this message: the platform ends it there first (Matrix:
    # an MSC3381 end event; Telegram: its vote buttons are removed).
    ends: MessageRef | None = None
    extra: dict[str, str] = field(default_factory=dict)
    new_room: NewRoom | None = None  # create this room and send the text there
    # False in a step that expects text: platforms without buttons show them as words,
    # not as a numbered list (a typed "1" is then the text "1").
    numbered: bool = True

    def flat_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]


def keyboard(*rows: list[Button] | tuple[Button, ...] | Button) -> Keyboard:
    """Build a keyboard; a bare Button is a row of one, an empty row is left out."""
    out: list[tuple[Button, ...]] = []
    for row in rows:
        if row:
            out.append((row,) if isinstance(row, Button) else tuple(row))
    return tuple(out)
