"""Digests: one message per resident (daily or weekly) and per linked group (weekly).

What is in it: new ideas in the themes I follow in my neighbourhood, status changes of my
reports and of reports in my neighbourhood, polls closing soon that I have not voted in,
and — for residents who get no polls by message — results of polls closed since my last
digest; per followed theme how many neighbours offered help in the period and which ideas
still need helpers (matchmaking: counts and I-numbers, never names). Each item has a
button to act on it. Nothing new: nothing is sent (ideas that need helpers are not news).

A run loads every item once (storage/repo/digests.py), then reads the residents with their
memberships, follows, votes and supports as a few streams in person order, a slice at a time
(storage/repo/digest_residents.py), and writes their digests to the outbox 1,000 at a time
(one INSERT each): the other queries do not grow with the number of residents, and memory
does not either.
Residents nothing personal sets apart share one digest (`Items.personal`).

Once per period: a run first stamps `last_digest_at` on the residents it serves (a claim);
a resident is due when their last digest is older than the latest scheduled time (`slot`),
so a second run for the same time finds them no longer due, and a digest sent late after
downtime does not make the next one skip. The digests and the stamps are written in one
transaction, so a crash sends nothing and loses nothing.

The package: `slots` (when), `items` (what), `render` (how it reads), `run` (the job).
"""

from bot.services.digests.items import Digest, Items
from bot.services.digests.render import render
from bot.services.digests.run import digest_jobs, queue_digests, send_digests
from bot.services.digests.slots import CRON, DIGEST_TIME, due_before, slot

__all__ = [
    "CRON",
    "DIGEST_TIME",
    "Digest",
    "Items",
    "digest_jobs",
    "due_before",
    "queue_digests",
    "render",
    "send_digests",
    "slot",
]
