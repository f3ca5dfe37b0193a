"""``POST /api/v1/debates/{debate_id}/compte-rendu`` (DESIGN §8): a compte rendu, or words and chapters,
attached to a debate already published."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .chapter_input import ChapterIn
from .transcript_input import MAX_PARAGRAPHS, TranscriptBody


class CompteRenduRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    compte_rendu_url: str | None = Field(None, min_length=1, max_length=4096, description="Syceron XML")
    transcript: TranscriptBody | None = Field(None, min_length=1, max_length=MAX_PARAGRAPHS)
    chapters: list[ChapterIn] | None = Field(None, max_length=5000)
    from_compte_rendu: bool = Field(
        False,
        description="transcript and chapters were read from a compte rendu (robian-media attach-cr FILE): "
        "those starting past the media's end are dropped, as for compte_rendu_url",
    )

    @model_validator(mode="after")
    def _one_source(self) -> CompteRenduRequest:
        if (self.compte_rendu_url is None) == (self.transcript is None):
            raise ValueError("give either compte_rendu_url, or transcript (with chapters if you have them)")
        if self.compte_rendu_url is not None and self.chapters is not None:
            raise ValueError("chapters come from the compte rendu when compte_rendu_url is given")
        return self


class CompteRenduAccepted(BaseModel):
    job_id: UUID
    debate_id: UUID
