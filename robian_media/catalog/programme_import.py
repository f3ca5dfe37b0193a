"""Import of the Assemblée nationale agenda (open data "Agenda", one réunion per JSON document).

Liberal in what it reads (see the fixtures' FORMATS.md): a ``{"reunion": …}`` wrapper, a bare
réunion, an array of either, ``{"reunions": {"reunion": [...]}}``; ``pointsODJ.pointODJ`` as an object
or a list; ``null`` anywhere optional. A .zip of such files or a directory of them works too.
Réunions without a uid or a start are skipped (and counted), never half-imported.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import asyncpg

from ..cache.invalidation import programme_changed
from ..cache.redis_client import create_cache, create_redis
from ..db.pool import migrated_pool
from ..settings import Settings
from .debate_queries import SITTING_TIMEZONE
from .programme_queries import AgendaItem, upsert_items

log = logging.getLogger(__name__)

SEANCE_TYPE = "seance_type"
PUBLIC_SITTING = "Séance publique"


class ImportResult(NamedTuple):
    inserted: int
    updated: int
    skipped: int


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str | None:
    """A non-empty string, from a string or a ``{"#text": …}`` node."""
    if isinstance(value, dict):
        value = value.get("#text")
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def iter_reunions(document: Any, *, wrapped: bool = False) -> Iterator[dict[str, Any]]:
    """Every réunion object in an agenda document, whatever its wrapping."""
    if isinstance(document, list):
        for entry in document:
            yield from iter_reunions(entry, wrapped=wrapped)
    elif isinstance(document, dict):
        if "reunions" in document:
            yield from iter_reunions(document["reunions"])
        elif "reunion" in document:
            yield from iter_reunions(document["reunion"], wrapped=True)
        elif wrapped or "uid" in document or "timeStampDebut" in document:
            yield document


def _timestamp(value: Any) -> dt.datetime | None:
    text = _text(value)
    if text is None:
        return None
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else None  # a time without its offset is ambiguous


def _topics(odj: dict[str, Any]) -> list[str]:
    points = (odj.get("pointsODJ") or {}).get("pointODJ")
    topics = [t for p in _as_list(points) if isinstance(p, dict) and (t := _text(p.get("objet")))]
    if not topics:
        for section in ("resumeODJ", "convocationODJ"):
            topics = [t for i in _as_list((odj.get(section) or {}).get("item")) if (t := _text(i))]
            if topics:
                break
    return list(dict.fromkeys(topics))


def _body(reunion: dict[str, Any]) -> str | None:
    if reunion.get("@xsi:type") == SEANCE_TYPE:
        return PUBLIC_SITTING
    organe = (reunion.get("demandeurs") or {}).get("organe")
    for candidate in _as_list(organe):
        if isinstance(candidate, dict) and (name := _text(candidate.get("nom"))):
            return name
    return _text(reunion.get("organeReuniRef"))


def parse_reunion(reunion: dict[str, Any]) -> AgendaItem | None:
    """One agenda item, or None when the réunion lacks a uid or a usable start."""
    uid = _text(reunion.get("uid"))
    try:
        starts_at = _timestamp(reunion.get("timeStampDebut"))
        ends_at = _timestamp(reunion.get("timeStampFin"))
    except ValueError:
        return None
    if uid is None or starts_at is None:
        return None
    day = starts_at.astimezone(ZoneInfo(SITTING_TIMEZONE)).date()
    odj = reunion.get("ODJ") or {}
    topics = _topics(odj)
    body = _body(reunion)
    lieu = reunion.get("lieu") or {}
    return AgendaItem(
        agenda_uid=uid,
        day=day,
        starts_at=starts_at.astimezone(dt.UTC),
        ends_at=ends_at.astimezone(dt.UTC) if ends_at else None,
        title=topics[0] if topics else (body or "Réunion"),
        body=body,
        location=_text(lieu.get("libelleLong")) or _text(lieu.get("libelleCourt")),
        state=_text((reunion.get("cycleDeVie") or {}).get("etat")),
        topics=topics,
    )


def parse_agenda(document: Any) -> tuple[list[AgendaItem], int]:
    """Items of a parsed JSON document and how many réunions were skipped."""
    items: dict[str, AgendaItem] = {}
    skipped = 0
    for reunion in iter_reunions(document):
        item = parse_reunion(reunion)
        if item is None:
            skipped += 1
            log.warning("agenda réunion skipped: no uid or start", extra={"uid": reunion.get("uid")})
        else:
            items[item.agenda_uid] = item  # the last copy of a réunion wins
    return list(items.values()), skipped


def read_documents(path: Path) -> Iterator[Any]:
    """JSON documents of a file, a .zip of files, or a directory of files (ValueError if unreadable)."""
    if path.is_dir():
        for child in sorted(path.rglob("*.json")):
            yield _load(child.read_bytes(), str(child))
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in sorted(n for n in archive.namelist() if n.endswith(".json")):
                yield _load(archive.read(name), f"{path}:{name}")
    else:
        yield _load(path.read_bytes(), str(path))


def _load(raw: bytes, where: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{where} is not JSON: {exc}") from None


async def import_agenda(conn: asyncpg.Connection, documents: list[Any]) -> ImportResult:
    """Upsert every réunion of ``documents`` by uid in one transaction, linked to its debate."""
    items: dict[str, AgendaItem] = {}
    skipped = 0
    for document in documents:
        parsed, missing = parse_agenda(document)
        skipped += missing
        items.update((item.agenda_uid, item) for item in parsed)
    inserted, updated = await upsert_items(conn, list(items.values()))
    return ImportResult(inserted, updated, skipped)


async def import_into_programme(settings: Settings, documents: list[Any]) -> ImportResult:
    """``robian-media import-agenda``: import into the configured database, then drop cached programmes."""
    async with migrated_pool(settings) as (_, pool), pool.acquire() as conn:
        result = await import_agenda(conn, documents)
    if settings.redis_url:
        # API nodes cache the programme: drop their copies (a down Redis only delays that)
        redis = create_redis(settings.redis_url)
        cache = create_cache(settings, redis)
        try:
            await programme_changed(cache)
        finally:
            await redis.aclose()
    return result
