"""The terminal chat: the embedded default, no token and no server.

Interactive in a terminal; scripted when stdin is not a terminal (each line is a message,
every reply is printed). Buttons print as numbered choices. Lines starting with ':' are
directives for trying things out: `:as NAME`, `:group NAME`, `:dm`, `:location LAT LON`,
`:photo`, `:jobs` (run scheduled jobs now), `:quit`. Charts and other images the bot sends
are saved as files (in `files`, default the system's temporary folder) and their paths printed.

In a group, typing the number of a button under the group's newest message with buttons
(a poll) presses it, as a tap does on Telegram; in a direct chat the bot reads numbers itself.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.core.commands import parse_command
from bot.core.events import (
    Attachment,
    Button,
    ChatRef,
    Incoming,
    Location,
    MessageRef,
    Reply,
    UserRef,
)
from bot.core.ports import Feed
from bot.core.text import whole_number

Hook = Callable[[], Awaitable[None]]


class ConsoleAdapter:
    platform = "console"
    capabilities = frozenset({"location", "photos"})

    def __init__(
        self,
        user: str = "buurtbewoner",
        group: str | None = None,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        language_code: str | None = None,
        files: Path | None = None,
    ) -> None:
        self.user = user
        self.group = group
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.language_code = language_code
        self.interactive = self.stdin.isatty()
        self.after_each: list[Hook] = []
        self.on_jobs: Hook | None = None
        self._ids = itertools.count(1)
        self._photos = itertools.count(1)
        self.files = files
        self._buttons: dict[str, list[Button]] = {}  # per chat: the newest message's buttons

    @property
    def chat(self) -> ChatRef:
        if self.group:
            return ChatRef(self.platform, f"group:{self.group}", "group", self.group)
        return ChatRef(self.platform, f"dm:{self.user}", "direct")

    def _print(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def start(self, feed: Feed) -> None:
        while True:
            if self.interactive:
                where = f"#{self.group}" if self.group else "dm"
                self.stdout.write(f"{self.user} ({where})> ")
                self.stdout.flush()
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                return
            line = line.rstrip("\n")
            if not self.interactive:
                self._print(f"{self.user}> {line}")
            if line.startswith(":") and not line.startswith("::"):
                if not await self._directive(line[1:].strip(), feed):
                    return
            else:
                await feed(self.incoming(line))
            for hook in self.after_each:
                await hook()

    def incoming(self, line: str) -> Incoming:
        user = UserRef(self.platform, self.user, self.user, self.language_code)
        ref = MessageRef(self.chat, f"u{next(self._ids)}")
        if (pressed := self._pressed(line)) is not None:
            return Incoming("button", user, self.chat, button_data=pressed.data, message=ref)
        cmd = parse_command(line)
        if cmd is not None:
            return Incoming(
                "command", user, self.chat, text=line, command=cmd[0], args=cmd[1], message=ref
            )
        return Incoming("text", user, self.chat, text=line, message=ref)

    def _pressed(self, line: str) -> Button | None:
        """In a group, a typed number presses that button of the newest message with buttons."""
        if self.chat.kind != "group":
            return None
        buttons = self._buttons.get(self.chat.id, [])
        number = whole_number(line.strip())
        if number is None or not 1 <= number <= len(buttons):
            return None
        return buttons[number - 1]

    async def _directive(self, line: str, feed: Feed) -> bool:
        word, _sep, rest = line.partition(" ")
        user = UserRef(self.platform, self.user, self.user, self.language_code)
        if word == "as" and rest:
            self.user = rest.strip()
        elif word == "group":
            self.group = rest.strip() or None
        elif word == "dm":
            self.group = None
        elif word == "location":
            try:
                lat, lon = (float(x) for x in rest.replace(",", " ").split())
            except ValueError:
                self._print("(use :location 52.381 4.637)")
                return True
            await feed(Incoming("location", user, self.chat, location=Location(lat, lon)))
        elif word == "photo":
            file_id = f"console-photo-{next(self._photos)}"
            await feed(
                Incoming(
                    "photo",
                    user,
                    self.chat,
                    text=rest,
                    attachment=Attachment("photo", file_id, self.platform),
                )
            )
        elif word == "jobs":
            if self.on_jobs is not None:
                await self.on_jobs()
        elif word in ("quit", "exit"):
            return False
        else:
            self._print(
                "(directives: :as NAME, :group NAME, :dm, :location LAT LON, :photo, :jobs, :quit)"
            )
        return True

    async def stop(self) -> None:
        return None

    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        header = "wijkbot"
        if chat.id != self.chat.id:
            header += f" → {chat.id.partition(':')[2] or chat.id}"
        if reply.image is not None:
            self._print(f"{header}: [🖼 {self._save(reply.image, '.png')}]")
        elif reply.photo is not None:
            self._print(f"{header}: [🖼]")
        if reply.document is not None:
            suffix = Path(reply.document.name).suffix or ".txt"
            self._print(f"{header}: [📄 {self._save(reply.document.data, suffix)}]")
        self._print(f"{header}: " + reply.text.replace("\n", "\n    "))
        for i, button in enumerate(reply.flat_buttons(), start=1):
            mark = f"[{i}]" if reply.numbered else "-"  # in a text step, "1" is text
            self._print(f"    {mark} {button.label}" + (f" <{button.url}>" if button.url else ""))
        if reply.flat_buttons():
            self._buttons[chat.id] = reply.flat_buttons()
        return MessageRef(chat, f"b{next(self._ids)}")

    def _save(self, data: bytes, suffix: str) -> Path:
        """Keep a file the bot sent, to open outside the terminal; its path is printed."""
        if self.files is None:
            self.files = Path(tempfile.mkdtemp(prefix="wijkbot-console-"))
        self.files.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=self.files, prefix="wijkbot-", suffix=suffix, delete=False
        ) as fh:
            fh.write(data)
        return Path(fh.name)

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        await self.send(ref.chat, reply)

    def direct_link(self, payload: str) -> str | None:
        return None
