"""Request and response shapes of the live routes (docs/architecture.md §4)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from ..ingest.chapter_input import SpeakerIn


class LiveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source_url: str = Field(
        min_length=1,
        max_length=4096,
        description="http(s) URL of a live HLS playlist, of an AN portal direct.<uid> page, or of a page "
        "yt-dlp finds a live HLS stream in",
    )
    title: str | None = Field(None, min_length=1, max_length=500)
    chamber: str | None = Field(None, min_length=1, max_length=32)
    body: str | None = Field(None, min_length=1, max_length=300)
    starts_at: AwareDatetime | None = Field(None, description="announced start; the stream's own clock wins")


class LiveJobParams(LiveRequest):
    """What a live job is given: the request, and the playlist its page resolved to when submitted."""

    playlist_url: str | None = Field(None, max_length=4096)


class LiveAccepted(BaseModel):
    debate_id: UUID
    job_id: UUID


class SpeakerChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    speaker: SpeakerIn
    at: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="seconds since the sitting began; default: now"
    )
    title: str | None = Field(None, max_length=500)

    @field_validator("speaker", mode="before")
    @classmethod
    def _name_alone(cls, value: Any) -> Any:
        # a bare name is a speaker without id or group
        return {"name": value} if isinstance(value, str) else value


class SpeakerAccepted(BaseModel):
    debate_id: UUID
    index: int = Field(description="the chapter's index (DATERANGE ch-{index})")
    at: float = Field(description="seconds since the sitting began, as requested")
    speaker: SpeakerIn


class LiveStopAccepted(BaseModel):
    debate_id: UUID
    job_id: UUID
    status: str
