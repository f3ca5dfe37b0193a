"""Who the speakers of a sitting are: AN acteur names and political groups, looked up once and kept.

Speakers with an AN id (PA…) not already known with a group are fetched from AN open data (acteur,
then the organe of their group). A lookup that fails leaves the name the source gave: a missing
group never fails an ingest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import TypeVar

import asyncpg

from packager.chapters import Speaker

from ..jobs.errors import IngestError
from ..jobs.publish import SpeakerRecord
from ..settings import Settings
from .chapter_input import ChapterIn
from .sources.an_acteurs import Acteur, Organe, parse_acteur, parse_organe
from .sources.http_fetch import SourceClient
from .transcript_input import TranscriptIn

Spoken = TypeVar("Spoken", ChapterIn, TranscriptIn)

log = logging.getLogger(__name__)

MAX_METADATA_BYTES = 4 << 20
LOOKUPS_AT_ONCE = 4

SELECT_KNOWN = """
SELECT id, name, group_id, group_name, group_abbrev FROM speakers
 WHERE id = ANY($1::text[]) AND group_name IS NOT NULL AND updated_at > now() - interval '30 days'
"""


async def _lookup(client: SourceClient, template: str, uid: str, what: str) -> bytes | None:
    try:
        return await client.fetch(template.format(uid=uid), max_bytes=MAX_METADATA_BYTES, what=what)
    except IngestError as exc:
        log.info("AN open data lookup failed", extra={"uid": uid, "error": exc.message})
        return None


async def _fetch_acteurs(client: SourceClient, settings: Settings, uids: set[str]) -> dict[str, Acteur]:
    limit = asyncio.Semaphore(LOOKUPS_AT_ONCE)

    async def one(uid: str) -> Acteur | None:
        async with limit:
            data = await _lookup(client, settings.an_acteur_url, uid, f"acteur {uid}")
        if data is None:
            return None
        try:
            return parse_acteur(data)
        except IngestError as exc:
            log.info("acteur unreadable", extra={"uid": uid, "error": exc.message})
            return None

    found = await asyncio.gather(*(one(uid) for uid in sorted(uids)))
    return {a.uid: a for a in found if a is not None}


async def _fetch_organes(client: SourceClient, settings: Settings, uids: set[str]) -> dict[str, Organe]:
    organes: dict[str, Organe] = {}
    for uid in sorted(uids):
        data = await _lookup(client, settings.an_organe_url, uid, f"organe {uid}")
        if data is None:
            continue
        try:
            organe = parse_organe(data)
        except IngestError as exc:
            log.info("organe unreadable", extra={"uid": uid, "error": exc.message})
            continue
        organes[organe.uid] = organe
    return organes


async def resolve_speakers(
    chapters: Sequence[ChapterIn],
    *,
    pool: asyncpg.Pool,
    client: SourceClient,
    settings: Settings,
    others: Sequence[Speaker] = (),
) -> tuple[list[ChapterIn], list[SpeakerRecord]]:
    """Chapters with the best names and groups known, and the speaker rows to upsert (``others``, such
    as the transcript's speakers, are looked up too)."""
    by_id: dict[str, SpeakerRecord] = {}
    for speaker in [*(chapter.speaker for chapter in chapters), *others]:
        if speaker.id and speaker.id not in by_id:
            by_id[speaker.id] = SpeakerRecord(id=speaker.id, name=speaker.name, group_name=speaker.group)
    an_ids = {uid for uid in by_id if uid.startswith("PA")}
    known = {row["id"]: SpeakerRecord(**dict(row)) for row in await pool.fetch(SELECT_KNOWN, sorted(an_ids))}
    by_id.update(known)
    acteurs = await _fetch_acteurs(client, settings, an_ids - set(known))
    organes = await _fetch_organes(client, settings, {a.group_ref for a in acteurs.values() if a.group_ref})
    for uid, acteur in acteurs.items():
        organe = organes.get(acteur.group_ref or "")
        by_id[uid] = SpeakerRecord(
            id=uid,
            name=acteur.name,
            group_id=acteur.group_ref,
            group_name=organe.name if organe else None,
            group_abbrev=organe.abbrev if organe else None,
        )
    return named(chapters, by_id.values()), list(by_id.values())


def named(items: Sequence[Spoken], records: Iterable[SpeakerRecord]) -> list[Spoken]:
    """Chapters or paragraphs whose speakers carry the names and groups of ``records``."""
    by_id = {record.id: record for record in records}
    resolved = []
    for item in items:
        record = by_id.get(item.speaker.id or "")
        if record is not None:
            speaker = item.speaker.model_copy(update={"name": record.name, "group": record.group_label})
            item = item.model_copy(update={"speaker": speaker})
        resolved.append(item)
    return resolved
