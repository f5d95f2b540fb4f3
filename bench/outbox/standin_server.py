"""The Bot API stand-in in its own process, so the bot's CPU time is measured alone.

    python -m bench.outbox.standin_server --recipients N --token T [--latency-ms MS]

Prints ``PORT <n>`` when it listens on 127.0.0.1; then answers lines on stdin:
``count`` → ``SENT <messages> <distinct chats> <non-200 requests>``, ``quit`` → exits.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from tests.standins.telegram_botapi import BotApiStandIn

FIRST_CHAT = 100_000


async def serve(recipients: int, token: str, latency_ms: float) -> None:
    async with BotApiStandIn(token=token, latency=latency_ms / 1000) as api:
        for i in range(recipients):
            chat = FIRST_CHAT + i
            api.private_chat(api.user(chat, f"Buur {i}", f"buur{i}"))
        print(f"PORT {api.port}", flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if line == "count":
                sent = api.sent
                errors = sum(r.status != 200 for r in api.request_log)
                print(f"SENT {len(sent)} {len({r.chat_id for r in sent})} {errors}", flush=True)
            elif line in ("quit", ""):
                return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(serve(args.recipients, args.token, args.latency_ms))


if __name__ == "__main__":
    main()
