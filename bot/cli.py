"""The `wijkbot` command: run, chat, db upgrade, setup, admin, budget, tally and gesprek."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

# Imported where used: `wijkbot tally` and `wijkbot gesprek` read files only, and start in
# a blink without settings (pydantic), a database (SQLAlchemy) or a chat library.
if TYPE_CHECKING:
    from bot.config import Settings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wijkbot", description="Chat bot for a neighbourhood platform."
    )
    p.add_argument("--config", help="TOML settings file (same names as WIJKBOT_*, lower case)")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run every configured platform; the console chat if none")
    run.add_argument(
        "--worker", action="store_true",
        help="one of several workers on one PostgreSQL database (polling, the scheduler and "
             "each platform's sending run in one worker at a time; see README, Operations)",
    )  # fmt: skip
    chat = sub.add_parser("chat", help="talk to Wijkbot in this terminal")
    chat.add_argument("--as", dest="user", default=os.environ.get("USER") or "buurtbewoner")
    chat.add_argument("--group", help="talk in a group chat with this name")
    chat.add_argument("--lang", help="platform language of the user (nl, en)")

    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])

    setup = sub.add_parser("setup", help="create neighbourhoods and themes from a TOML file")
    setup.add_argument("--file", required=True, type=Path)
    setup.add_argument(
        "--if-empty", action="store_true", help="only when no neighbourhood exists yet"
    )

    matrix = sub.add_parser(
        "matrix", help="the bot's Matrix identity (cross-signing); run these with the bot stopped"
    )
    matrix_sub = matrix.add_subparsers(dest="matrix_command", required=True)
    matrix_sub.add_parser(
        "bootstrap", help="set up the identity once (password from WIJKBOT_MATRIX_PASSWORD, "
        "WIJKBOT_MATRIX_BOOTSTRAP_PASSWORD or stdin)",
    )  # fmt: skip
    reset = matrix_sub.add_parser("reset-identity", help="replace the identity with a new one")
    reset.add_argument(
        "--replace", action="store_true", help="yes: residents will see a new identity"
    )
    recovery = matrix_sub.add_parser(
        "recovery", help="move the bot to another machine with a recovery key"
    )
    recovery.add_argument(
        "action",
        choices=["setup", "restore"],
        help="setup: store the identity in secret storage and show a recovery key once; "
        "restore: take it over on this machine (key from WIJKBOT_MATRIX_RECOVERY_KEY or stdin)",
    )

    admin = sub.add_parser("admin", help="administration")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    grant = admin_sub.add_parser("grant-coordinator", help="make a person coordinator")
    grant.add_argument("--platform", default="console")
    grant.add_argument("--user", required=True, help="platform user id (console: the --as name)")
    grant.add_argument("--neighbourhood", required=True, help="neighbourhood slug")
    add_p = admin_sub.add_parser("add-partner", help="let a person speak for an organisation")
    rm_p = admin_sub.add_parser("remove-partner", help="end a partner account")
    for one in (add_p, rm_p):
        one.add_argument("--platform", default="console")
        one.add_argument("--user", required=True, help="platform user id (console: the --as name)")
        one.add_argument("--neighbourhood", required=True, help="neighbourhood slug")
    add_p.add_argument("--organisation", required=True, help="the name residents will see")
    add_p.add_argument("--theme", action="append", default=[], help="theme slug (repeat)")
    add_p.add_argument(
        "--category", action="append", default=[], help="report category to hear about (repeat)"
    )
    add_p.add_argument("--may-announce", action="store_true", help="may send news to the themes")
    list_p = admin_sub.add_parser("list-partners", help="the partner accounts")
    pop = admin_sub.add_parser(
        "load-population", help="residents per age band per neighbourhood (a CBS-shaped CSV)"
    )
    pop.add_argument("file", type=Path, metavar="FILE")
    list_p.add_argument("--neighbourhood", help="only this neighbourhood (slug)")

    export = sub.add_parser(
        "export",
        help="signals or ideas for the area team, without personal data; or a conversation "
        "as Pol.is open-data files (export conversation ID --out DIR)",
    )
    export.add_argument("what", choices=["signals", "ideas", "conversation"])
    export.add_argument("id", nargs="?", type=int, metavar="ID", help="the conversation")
    export.add_argument("--format", choices=["csv", "json", "geojson"], default="csv")
    export.add_argument("--neighbourhood", help="only this neighbourhood (slug)")
    export.add_argument(
        "--out", type=Path, help="write to this file instead of the screen (conversation: DIR)"
    )

    budget = sub.add_parser("budget", help="neighbourhood budget rounds")
    budget_sub = budget.add_subparsers(dest="budget_command", required=True)
    b_import = budget_sub.add_parser("import", help="a new round from a .pb or .csv file")
    b_import.add_argument("--neighbourhood", required=True, help="neighbourhood slug")
    b_import.add_argument("--title", help="title of the round (a .pb file may give one)")
    b_import.add_argument("--rule", required=True, help="counting rule (greedy, mes, ...)")
    b_import.add_argument("--budget", type=int, help="budget in whole euros (needed for CSV)")
    b_import.add_argument("--ballot", choices=["approval", "knapsack", "cumulative"])
    b_import.add_argument(
        "--voters",
        choices=["codes", "members", "both"],
        default="codes",
        help="who may vote: codes from letters (binding, the default), members who say they "
        "live in the neighbourhood (an informal round), or both",
    )
    b_import.add_argument("file", type=Path, metavar="FILE", help="FILE.pb or FILE.csv")
    b_codes = budget_sub.add_parser("codes", help="one-time voting codes for letters")
    b_codes.add_argument("round", type=int, metavar="ROUND")
    b_codes.add_argument("--count", type=int, required=True)
    b_codes.add_argument("--out", type=Path, required=True, help="new CSV file for the codes")
    b_export = budget_sub.add_parser("export", help="anonymised ballots as a Pabulib file")
    b_export.add_argument("round", type=int, metavar="ROUND")
    b_export.add_argument("--out", type=Path, help="write to this file instead of the screen")

    forum = sub.add_parser("forum", help="lottery-drawn neighbourhood forums")
    forum_sub = forum.add_subparsers(dest="forum_command", required=True)
    f_draw = forum_sub.add_parser("draw", help="draw the panel, invite it, print the report")
    f_draw.add_argument("id", type=int, metavar="ID")
    f_draw.add_argument("--seed", type=int, help="a positive whole number (random if left out)")
    f_draw.add_argument("--algorithm", choices=["maximin", "nash"], default="maximin")
    f_codes = forum_sub.add_parser("codes", help="one-time pool codes for letters")
    f_codes.add_argument("id", type=int, metavar="ID")
    f_codes.add_argument("--count", type=int, required=True)
    f_codes.add_argument("--out", type=Path, required=True, help="new CSV file for the codes")

    gesprek = sub.add_parser("gesprek", help="statement dialogues (Pol.is-style)")
    gesprek_sub = gesprek.add_subparsers(dest="gesprek_command", required=True)
    g_analyse = gesprek_sub.add_parser(
        "analyse", help="opinion groups and common ground of a Pol.is export directory"
    )
    g_analyse.add_argument("dir", type=Path, metavar="DIR", help="with comments.csv etc.")
    g_analyse.add_argument("--json", action="store_true", help="groups, consensus, repness")

    check = sub.add_parser(
        "check", help="readiness: the database answers, every leader role is held, the outbox "
        "keeps up; exit 0 when ready (for health checks)",
    )  # fmt: skip
    check.add_argument(
        "--max-outbox-age", type=float, default=None, metavar="MINUTES",
        help="longest a due outbox message may wait (default 15)",
    )  # fmt: skip
    sub.add_parser(
        "tally", help="count a Pabulib .pb file (see wijkbot tally --help)", add_help=False
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["tally"]:
        from bot.services.budget.counting.tally_cli import main as tally_main

        return tally_main(args_list[1:])
    args = _parser().parse_args(args_list)
    if args.command == "gesprek":  # files only: no settings, no database
        return _gesprek(args)
    return _with_settings(args)


def _with_settings(args: argparse.Namespace) -> int:
    """Every command that reads the settings (and most the database)."""
    import asyncio

    from sqlalchemy.exc import InterfaceError, OperationalError

    from bot.config import CONFIG_ENV, ConfigError, load_settings
    from bot.util import logs

    if args.config:
        os.environ[CONFIG_ENV] = args.config
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"wijkbot: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings)
    try:
        return asyncio.run(_dispatch(args, settings))
    except KeyboardInterrupt:
        return 130
    except ConfigError as exc:  # found later: the secret key file, a round's key
        print(f"wijkbot: configuration error: {exc}", file=sys.stderr)
        return 2
    except _CliError as exc:
        print(f"wijkbot: {exc}", file=sys.stderr)
        return 2
    except (OperationalError, InterfaceError) as exc:  # the database does not answer
        from bot.ops.admin import unreachable

        print(unreachable(settings.effective_database_url, exc), file=sys.stderr)
        return 1


class _CliError(Exception):
    pass


def _gesprek(args: argparse.Namespace) -> int:
    from bot.services.dialogue.polis_format import PolisFormatError, analyse_directory

    try:
        sys.stdout.write(analyse_directory(args.dir, as_json=args.json))
    except PolisFormatError as exc:
        print(f"wijkbot: {exc}", file=sys.stderr)
        return 2
    return 0


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:  # noqa: C901 -- one branch per subcommand
    from bot.app import migrate
    from bot.ops import admin
    from bot.ops.setup_data import SetupError, apply_setup, has_neighbourhoods
    from storage.db import Database

    if args.command == "db":
        migrate(settings)
        print("Database is up to date.")
        return 0
    if args.command == "check":
        return await admin.check(settings, args.max_outbox_age)
    migrate(settings)
    if args.command == "setup":
        db = Database(settings.effective_database_url)
        try:
            if args.if_empty and await has_neighbourhoods(db):
                return 0
            result = await apply_setup(db, args.file)
        except SetupError as exc:
            raise _CliError(str(exc)) from None
        finally:
            await db.dispose()
        print(f"Set up {result.neighbourhoods} neighbourhoods and {result.themes} themes.")
        for warning in result.warnings:
            print(f"wijkbot: warning: {warning}", file=sys.stderr)
        return 0
    if args.command == "export" and args.what == "conversation":
        return await _export_conversation(args, settings)
    if args.command == "export":
        try:
            text = await admin.export(settings, args.what, args.format, args.neighbourhood)
        except admin.AdminError as exc:
            raise _CliError(str(exc)) from None
        if args.out:
            args.out.write_text(text, encoding="utf-8", newline="")  # CSV lines end in CRLF
        else:
            sys.stdout.write(text)
        return 0
    if args.command == "budget":
        return await _budget(args, settings)
    if args.command == "forum":
        return await _forum(args, settings)
    if args.command == "matrix":
        return await _matrix(args, settings)
    if args.command == "admin":
        try:
            print(await _admin(args, settings))
        except admin.AdminError as exc:
            raise _CliError(str(exc)) from None
        return 0
    if args.command in ("run", "chat"):
        from bot.ops.budget import check_keys

        await check_keys(settings)  # the secret key of open budget rounds, or stop here
    if getattr(args, "worker", False):
        if settings.effective_database_url.startswith("sqlite"):
            raise _CliError("--worker needs PostgreSQL (WIJKBOT_DATABASE_URL); "
                            "on SQLite run one process without --worker")  # fmt: skip
        if not settings.platforms:
            raise _CliError("--worker needs a configured platform (Telegram or Matrix)")
    if args.command == "run" and settings.platforms:
        try:
            await admin.run_platforms(settings)
        except admin.AdminError as exc:
            raise _CliError(str(exc)) from None
        return 0
    user = getattr(args, "user", None) or os.environ.get("USER") or "buurtbewoner"
    group = getattr(args, "group", None)
    lang = getattr(args, "lang", None)
    if args.command == "run":
        print("No platform is configured: opening the console chat. (Ctrl-D to leave)", flush=True)
    await admin.console_chat(settings, user, group, lang)
    return 0


async def _matrix(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.matrix.identity import identity_command
    from bot.adapters.matrix.session import MatrixLoginError
    from bot.app import App

    if args.matrix_command == "recovery":
        return await _recovery(args.action, settings)
    replace = args.matrix_command == "reset-identity"
    if replace and not args.replace:
        raise _CliError("reset-identity makes a new identity that residents must trust again; "
                        "add --replace to go ahead")  # fmt: skip
    if not settings.matrix_homeserver:
        raise _CliError("Matrix is not configured (WIJKBOT_MATRIX_HOMESERVER)")
    password = None
    if settings.matrix_password is None:
        password = os.environ.get("WIJKBOT_MATRIX_BOOTSTRAP_PASSWORD")
        if password is None:
            import getpass

            prompt = "Password of the bot's Matrix account: "
            password = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline()
        password = password.rstrip("\n") or None
    app = App(settings)
    try:
        print(await identity_command(settings, app.adapter_store, password, replace=replace))
    except (MatrixLoginError, ValueError) as exc:
        raise _CliError(str(exc)) from None
    finally:
        await app.db.dispose()
    return 0


async def _recovery(action: str, settings: Settings) -> int:
    from bot.adapters.matrix.recovery import restore_command, setup_command
    from bot.adapters.matrix.session import MatrixLoginError
    from bot.app import App

    if not settings.matrix_homeserver:
        raise _CliError("Matrix is not configured (WIJKBOT_MATRIX_HOMESERVER)")
    recovery_key = ""
    if action == "restore":
        recovery_key = os.environ.get("WIJKBOT_MATRIX_RECOVERY_KEY", "")
        if not recovery_key:
            import getpass

            prompt = "Recovery key: "
            recovery_key = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline()
    app = App(settings)
    try:
        if action == "setup":
            print(await setup_command(settings, app.adapter_store))
        else:
            print(await restore_command(settings, app.adapter_store, recovery_key))
    except (MatrixLoginError, ValueError) as exc:
        raise _CliError(str(exc)) from None
    finally:
        await app.db.dispose()
    return 0


async def _export_conversation(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.admin import AdminError
    from bot.ops.conversation_export import export_conversation

    if args.id is None or args.out is None:
        raise _CliError("export conversation needs the conversation's ID and --out DIR")
    try:
        print(await export_conversation(settings, args.id, args.format, args.out))
    except AdminError as exc:
        raise _CliError(str(exc)) from None
    return 0


async def _forum(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.forum import draw_forum, forum_codes
    from bot.services.forum.panel import ForumError

    try:
        if args.forum_command == "codes":
            made = await forum_codes(settings, args.id, args.count, args.out)
            print(f"Wrote {made} pool codes to {args.out}.")
        else:
            print(await draw_forum(settings, args.id, args.seed, args.algorithm))
    except ForumError as exc:
        raise _CliError(str(exc)) from None
    return 0


async def _budget(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops import budget as budget_admin

    try:
        if args.budget_command == "import":
            round_id = await budget_admin.import_round(
                settings,
                args.file,
                args.neighbourhood,
                args.rule,
                title=args.title,
                budget=args.budget,
                ballot_type=args.ballot,
                voters=args.voters,
            )
            print(round_id)
        elif args.budget_command == "codes":
            made = await budget_admin.make_codes(settings, args.round, args.count, args.out)
            print(f"Wrote {made} voting codes to {args.out}.")
        else:
            text = await budget_admin.export_round(settings, args.round)
            if args.out:
                args.out.write_text(text, encoding="utf-8")
            else:
                sys.stdout.write(text)
    except budget_admin.BudgetAdminError as exc:
        raise _CliError(str(exc)) from None
    return 0


async def _admin(args: argparse.Namespace, settings: Settings) -> str:
    from bot.ops import admin

    if args.admin_command == "add-partner":
        return await admin.add_partner(
            settings, args.platform, args.user, args.neighbourhood, args.organisation,
            args.theme, args.category, args.may_announce,
        )  # fmt: skip
    if args.admin_command == "remove-partner":
        return await admin.remove_partner(settings, args.platform, args.user, args.neighbourhood)
    if args.admin_command == "load-population":
        from bot.ops.population import PopulationError, load_population

        try:
            return await load_population(settings, args.file)
        except PopulationError as exc:
            raise admin.AdminError(str(exc)) from None
    if args.admin_command == "list-partners":
        return await admin.list_partners(settings, args.neighbourhood)
    return await admin.grant_coordinator(settings, args.platform, args.user, args.neighbourhood)
