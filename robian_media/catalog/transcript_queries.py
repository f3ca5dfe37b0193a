"""The words of a published debate (DESIGN §8): its paragraphs, read back as transcript.json lists them."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from .models import ChapterSpeaker, Transcript, TranscriptParagraph

GET_TRANSCRIPT = """
SELECT t.version, t.source FROM transcripts t JOIN debates d ON d.id = t.debate_id
 WHERE t.debate_id = $1 AND t.version = d.current_version
"""
LIST_PARAGRAPHS = """
SELECT idx, start_s, end_s, speaker_id, speaker_name, speaker_group, chapter, body
  FROM transcript_paragraphs WHERE debate_id = $1 ORDER BY idx
"""


async def get_transcript(conn: asyncpg.Connection, debate_id: UUID) -> Transcript | None:
    """None when the debate's published version has no words."""
    head = await conn.fetchrow(GET_TRANSCRIPT, debate_id)
    if head is None:
        return None
    paragraphs = [
        TranscriptParagraph(
            index=r["idx"],
            start=r["start_s"],
            end=r["end_s"],
            speaker=ChapterSpeaker(id=r["speaker_id"], name=r["speaker_name"], group=r["speaker_group"]),
            text=r["body"],
            chapter=r["chapter"],
        )
        for r in await conn.fetch(LIST_PARAGRAPHS, debate_id)
    ]
    return Transcript(
        debate_id=debate_id, version=head["version"], source=head["source"], paragraphs=paragraphs
    )
