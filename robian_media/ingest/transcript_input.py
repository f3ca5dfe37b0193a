"""TranscriptIn (DESIGN §8) as the API accepts it: the packager's own model, validated strictly at the
edge, so a bad paragraph is a 422 naming it (``body.transcript.N…``) before any job exists."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from packager.transcript import MAX_PARAGRAPH_CHARS, TranscriptError, check_sizes
from packager.transcript import TranscriptIn as PackagerTranscriptIn

from .chapter_input import SpeakerIn

# Paragraphs a sitting may have (a long sitting's compte rendu has a few thousand).
MAX_PARAGRAPHS = 50_000


class TranscriptIn(PackagerTranscriptIn):
    model_config = ConfigDict(extra="forbid")

    start: float = Field(ge=0, allow_inf_nan=False, description="seconds from the start of the sitting")
    end: float | None = Field(None, ge=0, allow_inf_nan=False, description="default: next start")
    speaker: SpeakerIn
    text: str = Field(min_length=1, max_length=MAX_PARAGRAPH_CHARS, description="plain text of the paragraph")

    @model_validator(mode="after")
    def _valid(self) -> TranscriptIn:
        if self.end is not None and self.end < self.start:
            raise ValueError("end must not be before start")
        if not self.text.strip():
            raise ValueError("text must not be blank")
        return self


def _within_sitting_limits(transcript: list[TranscriptIn]) -> list[TranscriptIn]:
    """The whole sitting's limits (packager.transcript.check_sizes) as a validation error."""
    try:
        check_sizes(transcript)
    except TranscriptError as exc:
        raise ValueError(str(exc)) from None
    return transcript


# the words of a sitting in a request body: each paragraph valid, and the whole within the sitting's limits
TranscriptBody = Annotated[list[TranscriptIn], AfterValidator(_within_sitting_limits)]
