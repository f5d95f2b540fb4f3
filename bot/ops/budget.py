"""Operator tasks for neighbourhood budgets behind ``wijkbot budget``: import, codes, export."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.services.budget import imports, results
from bot.services.budget.sealing import SealError, keys_for
from bot.util.spreadsheet import csv_text
from storage.db import Database
from storage.models import BudgetRound
from storage.repo import budgets, places
from storage.repo.budgets import BudgetError


class BudgetAdminError(Exception):
    pass


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BudgetAdminError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BudgetAdminError(f"{path}: line {line}: not UTF-8 text") from None


async def import_round(
    settings: Settings,
    path: Path,
    slug: str,
    rule: str,
    title: str | None = None,
    budget: int | None = None,
    ballot_type: str | None = None,
    voters: str = "codes",
) -> int:
    """Create a round from a ``.pb`` or ``.csv`` file; returns the round id."""
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("pb", "csv"):
        raise BudgetAdminError(f"{path}: use a Pabulib .pb or a .csv file")
    source = _read_text(path)
    db = Database(settings.effective_database_url)
    try:
        async with db.transaction() as session:
            hood = await places.neighbourhood_by_slug(session, slug)
            if hood is None or hood.id is None:
                raise BudgetAdminError(f"unknown neighbourhood {slug!r}")
            try:
                round_ = await imports.import_round(
                    session,
                    neighbourhood_id=hood.id,
                    source=source,
                    kind=kind,
                    counting_rule=rule,
                    title=title,
                    budget=budget,
                    ballot_type=ballot_type,
                    voters=voters,
                )
            except BudgetError as exc:
                where = f"{path}: " if exc.line is not None else ""
                raise BudgetAdminError(f"{where}{exc}") from None
            assert round_.id is not None
            return round_.id
    finally:
        await db.dispose()


async def _round(session: AsyncSession, round_id: int) -> BudgetRound:
    found = await budgets.get_round(session, round_id)
    if found is None:
        raise BudgetAdminError(f"unknown budget round {round_id}")
    return found


async def make_codes(settings: Settings, round_id: int, count: int, out: Path) -> int:
    """Write ``count`` new one-time codes to a CSV file (refuses to overwrite one)."""
    db = Database(settings.effective_database_url)
    try:
        async with db.transaction() as session:
            round_ = await _round(session, round_id)
            keys = keys_for(settings)
            try:
                keys.bind(round_)  # the codes' key comes from the secret key, not the database
                codes = await budgets.create_codes(
                    session, round_, count, key=keys.code_key(round_), now=datetime.now(UTC)
                )
            except (BudgetError, SealError) as exc:
                raise BudgetAdminError(str(exc)) from None
            text = csv_text(["code"], ({"code": c} for c in codes))
            # Written before the commit: no stored hash without its printable code.
            try:
                fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                raise BudgetAdminError(f"{out} exists already; choose another file") from None
            except OSError as exc:
                raise BudgetAdminError(f"{out}: cannot write: {exc.strerror or exc}") from None
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
    finally:
        await db.dispose()
    return len(codes)


async def export_round(settings: Settings, round_id: int, now: datetime | None = None) -> str:
    """The anonymised ballots as Pabulib text; refused before voting has closed."""
    db = Database(settings.effective_database_url)
    try:
        async with db.session() as session:
            round_ = await _round(session, round_id)
            try:
                return await results.export_pabulib(session, round_, now or datetime.now(UTC))
            except BudgetError as exc:
                raise BudgetAdminError(str(exc)) from None
    finally:
        await db.dispose()


async def check_keys(settings: Settings) -> None:
    """Before the bot starts: every round not counted yet has this installation's secret
    key (raises SealError, a configuration error, naming the round)."""
    keys = keys_for(settings)
    db = Database(settings.effective_database_url)
    try:
        async with db.session() as session:
            await keys.check_rounds(session)
    finally:
        await db.dispose()
