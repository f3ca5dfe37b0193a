"""Response models of the metadata API (docs/architecture.md §4): the JSON clients read, field for field."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel

from ..web.seconds import Seconds


def _to_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


# timestamps are ISO 8601 UTC: pydantic writes a UTC datetime with "Z"
UtcDatetime = Annotated[dt.datetime, AfterValidator(_to_utc)]

DebateStatus = Literal["pending", "processing", "published", "failed", "live", "cancelled"]
DEBATE_STATUSES: tuple[str, ...] = DebateStatus.__args__  # type: ignore[attr-defined]


class Debate(BaseModel):
    id: UUID
    title: str
    chamber: str
    body: str | None
    starts_at: UtcDatetime | None
    duration: Seconds | None
    status: DebateStatus
    source_url: str
    speakers_count: int
    chapters_count: int
    master_url: str | None


class ChapterSpeaker(BaseModel):
    id: str | None
    name: str
    group: str | None


class Chapter(BaseModel):
    index: int
    start: Seconds
    end: Seconds
    speaker: ChapterSpeaker | None
    title: str | None


class Variant(BaseModel):
    bandwidth: int
    average_bandwidth: int | None
    codecs: str
    url: str


class Stream(BaseModel):
    master_url: str
    variants: list[Variant]
    chapters_url: str
    vtt_url: str
    download_url: str
    duration: Seconds | None
    live: bool
    # the words (DESIGN §8): the WebVTT subtitle rendition and the whole sitting's transcript.vtt
    subtitles_url: str | None = None
    transcript_url: str | None = None


class DebateDetail(Debate):
    chapters: list[Chapter]
    stream: Stream | None


class DebatePage(BaseModel):
    items: list[Debate]
    next_cursor: str | None


class Speaker(BaseModel):
    id: str
    name: str
    group: str | None
    group_id: str | None
    group_name: str | None
    interventions_count: int
    debates_count: int


class SpeakerPage(BaseModel):
    items: list[Speaker]
    next_cursor: str | None


class Intervention(BaseModel):
    debate_id: UUID
    debate_title: str
    debate_starts_at: UtcDatetime | None
    index: int
    start: Seconds
    end: Seconds
    title: str | None
    # deep link: play master_url from `start` seconds
    master_url: str | None
    # the beginning of what the speaker said there, when the sitting has its words
    excerpt: str | None = None


class InterventionPage(BaseModel):
    items: list[Intervention]
    next_cursor: str | None


class ProgrammeItem(BaseModel):
    id: UUID
    agenda_uid: str | None
    day: dt.date
    starts_at: UtcDatetime | None
    ends_at: UtcDatetime | None
    title: str
    body: str | None
    location: str | None
    state: str | None
    topics: list[str]
    debate_id: UUID | None
    debate_status: DebateStatus | None
    # set once the linked debate is packaged
    master_url: str | None


class Programme(BaseModel):
    date: dt.date
    items: list[ProgrammeItem]


SearchKind = Literal["debate", "chapter", "speaker", "passage"]
SEARCH_KINDS: tuple[SearchKind, ...] = SearchKind.__args__  # type: ignore[attr-defined]


class TranscriptParagraph(BaseModel):
    index: int
    start: float
    end: float
    speaker: ChapterSpeaker
    text: str
    chapter: int | None


class Transcript(BaseModel):
    """``GET /api/v1/debates/{id}/transcript`` (DESIGN §8): the published version's paragraphs."""

    debate_id: UUID
    version: int
    source: Literal["compte_rendu", "request"]
    paragraphs: list[TranscriptParagraph]


class SearchResult(BaseModel):
    """One hit; which fields are set depends on ``kind`` (Swagger 2.0 has no tagged unions)."""

    kind: SearchKind
    rank: float
    title: str
    # debate and chapter hits
    debate_id: UUID | None = None
    debate_title: str | None = None
    starts_at: UtcDatetime | None = None
    master_url: str | None = None
    # chapter and passage hits: where in the debate (a passage: the cue where the words are said),
    # and who spoke; a passage's title is the excerpt around the words
    index: int | None = None
    start: Seconds | None = None
    end: Seconds | None = None
    speaker: ChapterSpeaker | None = None
    # speaker hits
    speaker_id: str | None = None
    group: str | None = None


class SearchPage(BaseModel):
    items: list[SearchResult]
    next_cursor: str | None


class Suggestion(BaseModel):
    kind: Literal["speaker", "debate"]
    text: str
    id: str


class Suggestions(BaseModel):
    items: list[Suggestion]
