"""A resident on Element's own crypto stack: matrix-js-sdk with its Rust crypto, in Node.

nio is the library the bot itself uses, so nio-based residents cannot show how Element
sees the bot. This one runs `js/resident.mjs` (see there) as a subprocess and speaks JSON
lines with it. `ensure_installed()` runs `npm ci` in `js/` once per lock change (npm's
cache keeps later installs offline).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HARNESS = Path(__file__).resolve().parent / "js"


class NodeUnavailable(Exception):
    """There is no `node` (or `npm`) on this machine."""


def ensure_installed(timeout: float = 300) -> Path:
    """The `node` binary, with the harness's locked packages installed beside it."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise NodeUnavailable("node and npm are needed for the Element-crypto tests")
    lock, installed = HARNESS / "package-lock.json", HARNESS / "node_modules/.package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            [npm, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HARNESS,
            check=True,
            timeout=timeout,
        )
    return Path(node)


@dataclass(frozen=True)
class Seen:
    """A message from the bot as Element's crypto saw it."""

    event_id: str
    type: str
    encrypted: bool
    decrypted: bool
    failure: str | None  # matrix-js-sdk's DecryptionFailureCode
    text: str | None
    edit_of: str | None
    shield: dict[str, str | None] | None  # {"colour": "NONE"|"GREY"|"RED", "reason": …}
    first_failure: str | None  # before a late room key arrived
    settle_ms: int  # how long decrypting took

    @property
    def warned(self) -> bool:
        """Element would draw a shield (grey or red) beside the message."""
        return self.shield is not None and self.shield["colour"] != "NONE"


class ElementResident:
    """One resident; every method is one command to the Node process."""

    def __init__(self, node: Path, log: Path) -> None:
        self.node = node
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self.user_id = ""
        self._next_id = 0

    async def start(
        self, homeserver: str, user: str, password: str, isolation: bool
    ) -> dict[str, Any]:
        """Log in, set up cross-signing, choose the isolation mode and sync."""
        await self._spawn()
        started = await self.command(
            "start", homeserver=homeserver, user=user, password=password, isolation=isolation
        )
        self.user_id = started["user_id"]
        return started

    async def recover(
        self, homeserver: str, user: str, password: str, recovery_key: str
    ) -> dict[str, Any]:
        """Log in to the bot's own account and take its identity with the recovery key."""
        await self._spawn()
        return await self.command(
            "recover",
            homeserver=homeserver,
            user=user,
            password=password,
            recovery_key=recovery_key,
        )

    async def _spawn(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            str(self.node),
            str(HARNESS / "resident.mjs"),
            cwd=HARNESS,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log.open("wb"),
        )

    async def command(self, cmd: str, wait: float = 60, **args: Any) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self._next_id += 1
        line = json.dumps({"id": self._next_id, "cmd": cmd, **args}) + "\n"
        self.proc.stdin.write(line.encode())
        await self.proc.stdin.drain()
        raw = await asyncio.wait_for(self.proc.stdout.readline(), wait)
        if not raw:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the Element resident stopped during {cmd!r}: {tail}")
        answer: dict[str, Any] = json.loads(raw)
        if not answer.pop("ok"):
            raise RuntimeError(f"{cmd}: {answer['error']}")
        return answer

    async def open_dm(self, bot_user_id: str) -> str:
        return str((await self.command("open_dm", bot=bot_user_id))["room"])

    async def say(self, room: str, text: str) -> None:
        await self.command("say", room=room, text=text)

    async def next(self, within: float = 30) -> Seen:
        """The next message from the bot (edits included), in the order they arrived."""
        answer = await self.command("next", wait=within + 10, timeout=within)
        return Seen(**answer["message"])

    async def seen(self) -> list[Seen]:
        return [Seen(**m) for m in (await self.command("dump"))["messages"]]

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
