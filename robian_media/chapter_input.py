"""ChapterIn (DESIGN §4): one intervention as given to ingest or found in a source."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class SpeakerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str | None = Field(None, max_length=64, description="AN acteur id (PA…) when known")
    name: str = Field(min_length=1, max_length=200)
    group: str | None = Field(None, max_length=200, description="political group (sigle or name)")


class ChapterIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    start: float = Field(ge=0, description="seconds from the start of the sitting")
    end: float | None = Field(None, ge=0)
    speaker: SpeakerIn
    title: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _end_after_start(self) -> ChapterIn:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class ChapterList(BaseModel):
    """A whole chapter list: ordered by start, no two chapters starting at the same time."""

    chapters: list[ChapterIn] = Field(max_length=5000)

    @field_validator("chapters")
    @classmethod
    def _ordered(cls, chapters: list[ChapterIn]) -> list[ChapterIn]:
        for before, after in zip(chapters, chapters[1:], strict=False):
            if after.start <= before.start:
                raise ValueError(f"chapters must be in increasing start order ({after.start} after {before.start})")
        return chapters
