"""`wijkbot setup --file wijkbot.toml`: neighbourhoods and themes, idempotent."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from storage.db import Database
from storage.repo import places

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


class SetupError(Exception):
    pass


@dataclass(frozen=True)
class SetupResult:
    neighbourhoods: int
    themes: int
    warnings: tuple[str, ...] = ()  # one plain line each: stored, but it will not work well


HOOD_KEYS = {"slug", "name", "forwarding", "public_page"}
THEME_KEYS = {"slug", "names", "neighbourhood"}


def _no_unknown(where: str, kind: str, unknown: set[str]) -> None:
    """A misspelt section or key is an error, not silently ignored."""
    if unknown:
        raise SetupError(f"{where} unknown {kind} {', '.join(sorted(unknown))}")


def read_setup(path: Path) -> dict[str, list[dict[str, object]]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SetupError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SetupError(f"{path}: {exc}") from None
    _no_unknown(f"{path}:", "section", {f"[{k}]" for k in data} - {"[neighbourhood]", "[theme]"})
    hoods = data.get("neighbourhood", [])
    themes = data.get("theme", [])
    if not all(
        isinstance(x, list) and all(isinstance(y, dict) for y in x) for x in (hoods, themes)
    ):
        raise SetupError(f"{path}: use [[neighbourhood]] and [[theme]] tables")
    for i, h in enumerate(hoods, 1):
        _no_unknown(f"{path}: neighbourhood {h.get('slug', i)}:", "key", set(h) - HOOD_KEYS)
        if not isinstance(h.get("slug"), str) or not _SLUG.match(h["slug"]):
            raise SetupError(
                f"{path}: neighbourhood {i}: slug must be lowercase letters, digits, '-'"
            )
        if not isinstance(h.get("name"), str) or not h["name"].strip():
            raise SetupError(f"{path}: neighbourhood {h['slug']}: name is missing")
        if not isinstance(h.get("public_page", False), bool):
            raise SetupError(f"{path}: neighbourhood {h['slug']}: public_page is true or false")
        if "forwarding" in h:
            _check_forwarding(path, h["slug"], h["forwarding"])
    for i, t in enumerate(themes, 1):
        _no_unknown(f"{path}: theme {t.get('slug', i)}:", "key", set(t) - THEME_KEYS)
        if not isinstance(t.get("slug"), str) or not _SLUG.match(t["slug"]):
            raise SetupError(f"{path}: theme {i}: slug must be lowercase letters, digits, '-'")
        names = t.get("names")
        if not isinstance(names, dict) or "nl" not in names:
            raise SetupError(f"{path}: theme {t['slug']}: names need at least nl")
    return {"neighbourhood": hoods, "theme": themes}


SECRET_KEYS = ("api_key", "password")


def _table(value: object) -> dict[str, object]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _check_forwarding(path: Path, slug: str, table: object) -> None:
    """Validate a `forwarding` table; secrets must be named by environment variable."""
    from bot.services.signals.channels import ForwardingConfigError, load_forwarding_config

    where = f"{path}: neighbourhood {slug}"
    if not isinstance(table, dict):
        raise SetupError(f"{where}: forwarding must be a table")
    for key in SECRET_KEYS:
        if key in table:
            raise SetupError(
                f"{where}: forwarding.{key}: keep secrets out of this file; "
                f"set an environment variable and name it with {key}_env"
            )
    # Check the shape now; the secrets themselves are read when forwarding.
    names = {str(table[f"{k}_env"]): "set-at-runtime" for k in SECRET_KEYS if f"{k}_env" in table}
    try:
        load_forwarding_config(table, env={**os.environ, **names})
    except ForwardingConfigError as exc:
        raise SetupError(f"{where}: {exc}") from None


async def apply_setup(db: Database, path: Path) -> SetupResult:
    data = read_setup(path)
    async with db.transaction() as session:
        slugs: dict[str, int] = {}
        for h in data["neighbourhood"]:
            hood = await places.upsert_neighbourhood(
                session,
                str(h["slug"]),
                str(h["name"]).strip(),
                _table(h.get("forwarding")),
                public_page=h.get("public_page") is True,
            )
            assert hood.id is not None
            slugs[hood.slug] = hood.id
        count = 0
        for t in data["theme"]:
            scope = t.get("neighbourhood")
            if scope is not None and scope not in slugs:
                found = await places.neighbourhood_by_slug(session, str(scope))
                if found is None or found.id is None:
                    raise SetupError(f"{path}: theme {t['slug']}: unknown neighbourhood {scope}")
                slugs[str(scope)] = found.id
            names = {str(k): str(v) for k, v in dict(t["names"]).items()}  # type: ignore[call-overload]
            await places.upsert_theme(
                session, str(t["slug"]), names, slugs[str(scope)] if scope else None
            )
            count += 1
    return SetupResult(len(data["neighbourhood"]), count, setup_warnings(path, data))


def setup_warnings(path: Path, data: dict[str, list[dict[str, object]]]) -> tuple[str, ...]:
    """What is allowed but will go wrong later, one line each."""
    found = []
    for h in data["neighbourhood"]:
        table = _table(h.get("forwarding"))
        if table.get("kind") == "signalen" and "fallback_point" not in table:
            found.append(
                f"{path}: neighbourhood {h['slug']}: Signalen needs a place on the map; "
                "reports with only an address cannot be sent until you set "
                "forwarding.fallback_point"
            )
    return tuple(found)


async def has_neighbourhoods(db: Database) -> bool:
    async with db.session() as session:
        return bool(await places.neighbourhoods(session))
