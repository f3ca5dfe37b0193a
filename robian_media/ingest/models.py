"""Request and response shapes of the ingest route (docs/architecture.md §4); a job is ``jobs.models.Job``."""

from __future__ import annotations

import itertools
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..web.text_formats import IsoTimestamp
from .chapter_input import ChapterIn
from .transcript_input import MAX_PARAGRAPHS, TranscriptBody


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source_url: str = Field(
        min_length=1, max_length=4096, description="http(s) URL, AN portal page, or local file"
    )
    title: str | None = Field(None, min_length=1, max_length=500)
    chamber: str | None = Field(None, min_length=1, max_length=32)
    body: str | None = Field(None, min_length=1, max_length=300)
    starts_at: IsoTimestamp | None = None
    chapters: list[ChapterIn] | None = Field(None, max_length=5000)
    compte_rendu_url: str | None = Field(None, min_length=1, max_length=4096)
    transcript: TranscriptBody | None = Field(
        None, max_length=MAX_PARAGRAPHS, description="the words (DESIGN §8); else the compte rendu's"
    )

    @field_validator("chapters")
    @classmethod
    def _distinct_starts(cls, chapters: list[ChapterIn] | None) -> list[ChapterIn] | None:
        if chapters:
            starts = sorted(c.start for c in chapters)
            for before, after in itertools.pairwise(starts):
                if after - before < 1e-3:
                    raise ValueError(f"two chapters start at {after} s")
        return chapters


class IngestAccepted(BaseModel):
    job_id: UUID
    debate_id: UUID
