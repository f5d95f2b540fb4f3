"""Operator tasks behind the CLI: coordinator grants, health check, console chat."""

from __future__ import annotations

import sys

from sqlalchemy import make_url
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.adapters.console import ConsoleAdapter
from bot.app import App
from bot.config import Settings
from bot.ops import export as export_mod
from bot.services.signals.notices import CATEGORY_LABELS
from storage.db import Database
from storage.models import Neighbourhood, Partner
from storage.repo import audit, partners, people, places


class AdminError(Exception):
    pass


async def grant_coordinator(settings: Settings, platform: str, user_id: str, slug: str) -> str:
    db = Database(settings.effective_database_url)
    try:
        async with db.transaction() as session:
            hood = await places.neighbourhood_by_slug(session, slug)
            if hood is None or hood.id is None:
                names = ", ".join(n.slug for n in await places.neighbourhoods(session))
                raise AdminError(
                    f"unknown neighbourhood {slug!r}; known: {names or 'none (run setup)'}"
                )
            person = await people.get_or_create_person(
                session, platform, user_id, settings.default_locale
            )
            assert person.id is not None
            changed = await people.grant_coordinator(session, person.id, hood.id)
            await audit.record(
                session, None, "coordinator.granted", "person", person.id, neighbourhood=slug
            )
    finally:
        await db.dispose()
    if not changed:
        return f"{platform}:{user_id} was already coordinator of {hood.name}."
    return f"{platform}:{user_id} is now coordinator of {hood.name}."


async def add_partner(
    settings: Settings,
    platform: str,
    user_id: str,
    slug: str,
    organisation: str,
    themes: list[str],
    categories: list[str],
    may_announce: bool = False,
) -> str:
    """Make a person speak for an organisation in a neighbourhood (again: update it)."""
    organisation = " ".join(organisation.split())
    if not organisation or len(organisation) > 120:
        raise AdminError("give the organisation's name, at most 120 characters")
    unknown = sorted(set(categories) - set(CATEGORY_LABELS))
    if unknown:
        raise AdminError(
            f"unknown report categories: {', '.join(unknown)}; known: {', '.join(CATEGORY_LABELS)}"
        )
    db = Database(settings.effective_database_url)
    try:
        async with db.transaction() as session:
            hood = await _hood(session, slug)
            assert hood.id is not None
            known = {t.slug: t.id for t in await places.themes_for(session, hood.id)}
            missing = sorted(set(themes) - set(known))
            if missing:
                raise AdminError(
                    f"unknown themes: {', '.join(missing)}; known: {', '.join(sorted(known))}"
                )
            person = await people.get_or_create_person(
                session, platform, user_id, settings.default_locale
            )
            assert person.id is not None
            row = await partners.partner_of(session, person.id, hood.id)
            if row is None:
                told_idea, told_signal = await partners.newest_ids(session)
                row = Partner(
                    person_id=person.id, neighbourhood_id=hood.id, organisation=organisation,
                    told_idea_id=told_idea, told_signal_id=told_signal,
                )  # fmt: skip
            row.organisation = organisation
            row.theme_ids = sorted(i for t in themes if (i := known[t]) is not None)
            row.categories = sorted(set(categories))
            row.may_announce = may_announce
            session.add(row)
            await session.flush()
            await audit.record(
                session, None, "partner.added", "person", person.id,
                neighbourhood=slug, organisation=organisation,
            )  # fmt: skip
    finally:
        await db.dispose()
    news = " (may send news to these themes)" if may_announce else ""
    return f"{platform}:{user_id} now speaks for {organisation} in {hood.name}{news}."


async def remove_partner(settings: Settings, platform: str, user_id: str, slug: str) -> str:
    db = Database(settings.effective_database_url)
    try:
        async with db.transaction() as session:
            hood = await _hood(session, slug)
            person = await people.person_for_account(session, platform, user_id)
            row = (
                await partners.partner_of(session, person.id, hood.id or 0)
                if person is not None and person.id is not None
                else None
            )
            if row is None:
                return f"{platform}:{user_id} is no partner in {hood.name}."
            await session.delete(row)
            await audit.record(
                session, None, "partner.removed", "person", row.person_id, neighbourhood=slug
            )
    finally:
        await db.dispose()
    return f"{platform}:{user_id} no longer speaks for {row.organisation} in {hood.name}."


async def list_partners(settings: Settings, slug: str | None) -> str:
    db = Database(settings.effective_database_url)
    try:
        async with db.session() as session:
            hood_ids = [(await _hood(session, slug)).id or 0] if slug else None
            lines = []
            for p in await partners.partners_in(session, hood_ids):
                hood = await places.neighbourhood(session, p.neighbourhood_id)
                themes = [t.slug for i in p.theme_ids if (t := await places.theme(session, i))]
                accounts = await people.accounts_of(session, p.person_id)
                who = ", ".join(f"{a.platform}:{a.platform_user_id}" for a in accounts) or "?"
                lines.append(
                    f"{p.organisation} ({hood.slug if hood else '?'}): {who}; "
                    f"themes: {', '.join(themes) or '-'}; "
                    f"reports: {', '.join(p.categories) or '-'}; "
                    f"news: {'yes' if p.may_announce else 'no'}"
                )
    finally:
        await db.dispose()
    return "\n".join(lines) or "No partners yet."


async def _hood(session: AsyncSession, slug: str) -> Neighbourhood:
    hood = await places.neighbourhood_by_slug(session, slug)
    if hood is None or hood.id is None:
        names = ", ".join(n.slug for n in await places.neighbourhoods(session))
        raise AdminError(f"unknown neighbourhood {slug!r}; known: {names or 'none (run setup)'}")
    return hood


async def export(
    settings: Settings, what: export_mod.Kind, fmt: export_mod.Format, slug: str | None
) -> str:
    db = Database(settings.effective_database_url)
    try:
        async with db.session() as session:
            hood_id = None
            if slug:
                hood = await places.neighbourhood_by_slug(session, slug)
                if hood is None:
                    raise AdminError(f"unknown neighbourhood {slug!r}")
                hood_id = hood.id
            load = export_mod.signal_rows if what == "signals" else export_mod.idea_rows
            rows = await load(session, hood_id)
        try:
            return export_mod.render(what, fmt, rows)
        except export_mod.ExportError as exc:
            raise AdminError(str(exc)) from None
    finally:
        await db.dispose()


def unreachable(database_url: str, exc: BaseException) -> str:
    """One line for an operator whose database does not answer (no password, no traceback)."""
    url = make_url(database_url)
    where = f"{url.host}:{url.port or 5432}" if url.host else (url.database or database_url)
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = first[0].rsplit(": ", 1)[-1] if first else type(exc).__name__
    return f"wijkbot: database not reachable at {where} ({reason}). Is it running?"


async def check(settings: Settings, max_age_minutes: float | None = None) -> int:
    """Readiness (bot/ops/readiness.py): 0 when ready, 1 when not, a line per check."""
    from datetime import timedelta

    from bot.ops.readiness import OUTBOX_MAX_AGE, readiness

    max_age = OUTBOX_MAX_AGE if max_age_minutes is None else timedelta(minutes=max_age_minutes)
    try:
        ready = await readiness(settings, max_age=max_age)
    except Exception as exc:
        print(unreachable(settings.effective_database_url, exc), file=sys.stderr)
        return 1
    return 0 if ready else 1


async def run_platforms(settings: Settings) -> None:
    """Every configured platform in one event loop."""
    app = App(settings)
    if settings.telegram_token is not None:
        from bot.adapters.telegram.adapter import TelegramAdapter, TelegramError

        try:
            app.add(TelegramAdapter(settings, app.adapter_store, menu=app.menu))
        except TelegramError as exc:
            raise AdminError(str(exc)) from None
    if settings.matrix_homeserver:
        from bot.adapters.matrix.adapter import MatrixAdapter

        app.add(
            MatrixAdapter(
                settings,
                app.adapter_store,
                allowed_inviters=settings.matrix_allowed_inviters or None,
            )
        )
    print("Wijkbot runs on: " + ", ".join(app.adapters), flush=True)
    from bot.adapters.matrix.session import MatrixLoginError
    from bot.adapters.telegram.adapter import TelegramError

    try:
        await app.run()
    except (TelegramError, MatrixLoginError) as exc:
        raise AdminError(str(exc)) from None


def add_console(app: App, console: ConsoleAdapter) -> None:
    """The console on an app: `:jobs` runs the jobs, and everything a line caused is printed
    before the next line is read, even while the background sender is busy. So the talk
    reads in order, and `:as` cannot change whose chat a message seems to land in."""
    console.on_jobs = app.run_jobs_now
    console.after_each.append(app.flush_outbox)
    app.add(console)


async def console_chat(settings: Settings, user: str, group: str | None, lang: str | None) -> None:
    app = App(settings)
    files = settings.data_dir / "console-files"  # charts, to open outside the terminal
    add_console(app, ConsoleAdapter(user=user, group=group, language_code=lang, files=files))
    await app.run()
