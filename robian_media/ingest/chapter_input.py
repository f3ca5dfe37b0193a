"""ChapterIn (docs/architecture.md §4) as the API accepts it: the packager's own model, validated
strictly at the edge.

Subclassing keeps one shape (what the API receives is what the packager takes) while the API
refuses unknown fields, negative times and empty names with a 422 before any job exists.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field, model_validator

from packager.chapters import ChapterIn as PackagerChapterIn
from packager.chapters import Speaker


class SpeakerIn(Speaker):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str | None = Field(None, max_length=64, description="AN acteur id (PA…) when known")
    name: str = Field(min_length=1, max_length=200)
    group: str | None = Field(None, max_length=200, description="political group (sigle or name)")


class ChapterIn(PackagerChapterIn):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    start: float = Field(ge=0, allow_inf_nan=False, description="seconds from the start of the sitting")
    end: float | None = Field(None, ge=0, allow_inf_nan=False)
    speaker: SpeakerIn
    title: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _end_after_start(self) -> ChapterIn:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self
