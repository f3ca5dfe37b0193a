"""Intervention clips made right after a version is published (DESIGN §9), so the speakers' feeds never
wait for a cut and state the exact length of each enclosure. Cheap: no encode, a remux per chapter.

A failure here is logged and left to the first listener who asks: the version is published already.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import asdict
from uuid import UUID

from packager.chapters import Chapter
from packager.playlists import Variant

from ..jobs.resources import WorkerResources
from ..media.clips import intervention_spec, top_rung_dir

log = logging.getLogger(__name__)

DEBATE = "SELECT title, starts_at FROM debates WHERE id = $1"


async def make_intervention_clips(
    res: WorkerResources,
    debate_id: str,
    *,
    version: int,
    duration: float,
    variants: Sequence[Variant],
    chapters: Sequence[Chapter],
) -> int:
    """Make the clip of every chapter of the version just published (VOD or a live recording); how
    many exist now."""
    rung = top_rung_dir(asdict(v) for v in variants)
    if res.clips is None or rung is None or not chapters:
        return 0
    async with res.pool.acquire() as conn:
        debate = await conn.fetchrow(DEBATE, UUID(debate_id))
    if debate is None:
        return 0
    made = 0
    for chapter in chapters:
        spec = intervention_spec(
            UUID(debate_id),
            version,
            rung,
            chapter,
            chapters,
            duration=duration,
            album=debate["title"],
            starts_at=debate["starts_at"],
        )
        try:
            await res.clips.ensure(spec)
            made += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("intervention clip not made", extra={"clip": spec.relative}, exc_info=True)
    return made
