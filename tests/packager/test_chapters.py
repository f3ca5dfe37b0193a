"""Chapter normalisation and the chapter files, without FFmpeg."""

from __future__ import annotations

import math

import pytest

from packager.chapters import (
    ChapterError,
    apple_chapters,
    ffmetadata,
    normalise_chapters,
    parse_chapters,
    webvtt_chapters,
)


def chapters(*items: dict) -> list:
    return parse_chapters(list(items))


def speaker(name: str, sid: str | None = None) -> dict:
    return {"name": name, **({"id": sid} if sid else {})}


def test_sorted_ends_default_to_next_start_and_duration() -> None:
    result = normalise_chapters(
        chapters(
            {"start": 30, "speaker": speaker("B")},
            {"start": 0, "speaker": speaker("A", "PA1"), "title": "Ouverture"},
        ),
        duration=50,
    )
    assert [(c.index, c.start, c.end, c.speaker.name) for c in result] == [(1, 0, 30, "A"), (2, 30, 50, "B")]
    assert result[0].label == "A — Ouverture"


def test_overlap_is_cut_at_next_start_and_end_clamped_to_duration() -> None:
    result = normalise_chapters(
        chapters(
            {"start": 0, "end": 35, "speaker": speaker("A")},
            {"start": 30, "end": 99, "speaker": speaker("B")},
        ),
        duration=50,
    )
    assert [(c.start, c.end) for c in result] == [(0, 30), (30, 50)]


def test_gap_is_kept_and_zero_length_chapter_dropped() -> None:
    result = normalise_chapters(
        chapters(
            {"start": 0, "end": 10, "speaker": speaker("A")},
            {"start": 20, "end": 20, "speaker": speaker("B")},
            {"start": 25, "speaker": speaker("C")},
        ),
        duration=40,
    )
    assert [(c.index, c.start, c.end, c.speaker.name) for c in result] == [(1, 0, 10, "A"), (2, 25, 40, "C")]


def test_empty_list_is_fine() -> None:
    assert normalise_chapters([], duration=10) == []
    assert apple_chapters([]) == []
    assert webvtt_chapters([]).startswith("WEBVTT")


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"start": -1, "speaker": {"name": "A"}}], "negative"),
        ([{"start": math.nan, "speaker": {"name": "A"}}], "finite"),
        ([{"start": 0, "end": math.inf, "speaker": {"name": "A"}}], "finite"),
        ([{"start": 10, "end": 5, "speaker": {"name": "A"}}], "before start"),
        ([{"start": 60, "speaker": {"name": "A"}}], "past the end"),
        ([{"start": 5, "speaker": {"name": "A"}}, {"start": 5, "speaker": {"name": "B"}}], "both start"),
    ],
)
def test_unusable_chapters_are_refused_with_a_reason(items: list, message: str) -> None:
    with pytest.raises(ChapterError, match=message):
        normalise_chapters(parse_chapters(items), duration=50)


@pytest.mark.parametrize(
    "data", [{"start": 0}, [{"start": 0}], [{"start": "x", "speaker": {"name": "A"}}], "[{"]
)
def test_malformed_input_is_a_chapter_error(data: object) -> None:
    with pytest.raises(ChapterError):
        parse_chapters(data)


def test_apple_format() -> None:
    result = normalise_chapters(
        chapters(
            {"start": 0, "speaker": {"id": "PA1", "name": "Jean", "group": "X"}, "title": "Budget"},
            {"start": 12.5, "speaker": speaker("Marie")},
        ),
        duration=20,
    )
    assert apple_chapters(result) == [
        {
            "chapter": 1,
            "start-time": 0.0,
            "duration": 12.5,
            "titles": [{"language": "fr", "title": "Jean — Budget"}],
            "metadata": [{"key": "speaker-id", "value": "PA1"}, {"key": "speaker-group", "value": "X"}],
        },
        {
            "chapter": 2,
            "start-time": 12.5,
            "duration": 7.5,
            "titles": [{"language": "fr", "title": "Marie"}],
            "metadata": [],
        },
    ]


def test_webvtt_and_ffmetadata_escape_what_their_syntax_reserves() -> None:
    result = normalise_chapters(chapters({"start": 0, "speaker": speaker("A=B; #1 --> x")}), duration=3661.5)
    vtt = webvtt_chapters(result)
    assert "00:00:00.000 --> 01:01:01.500\nA=B; #1 → x\n" in vtt
    meta = ffmetadata(result, title="Séance")
    assert meta.startswith(";FFMETADATA1\ntitle=Séance\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=3661500\n")
    assert "title=A\\=B\\; \\#1 --> x" in meta
