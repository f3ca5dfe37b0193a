"""Request and response shapes of the ingest and jobs routes (docs/architecture.md §4)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..ingest.chapter_input import ChapterIn
from ..web.text_formats import IsoTimestamp

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
JobStage = Literal["fetching", "probing", "packaging", "publishing"]


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


class Job(BaseModel):
    id: UUID
    kind: Literal["ingest", "live"]
    status: JobStatus
    stage: JobStage | None
    progress: float
    error: str | None
    debate_id: UUID | None
    created_at: datetime
    updated_at: datetime
