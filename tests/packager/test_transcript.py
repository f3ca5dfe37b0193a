"""The words of a sitting (DESIGN §8): cue rules, the files beside the audio, the master's subtitle
rendition, and refusals that name the paragraph and leave nothing behind."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
from pathlib import Path

import m3u8
import pytest
import webvtt

from packager.captions import MAX_CUE_SECONDS, paragraph_cues, split_text
from packager.chapters import Speaker
from packager.ladder import Ladder
from packager.rendition import Rendition, build_rendition
from packager.silences import read_pauses, with_silence_detection
from packager.synth import STARTS_AT, TEXT, Sitting
from packager.transcript import Paragraph, TranscriptError, TranscriptIn, normalise_transcript

from .conftest import write_json

MEDIA_LINE = (
    '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Français (compte rendu)",LANGUAGE="fr",DEFAULT=NO,'
    'AUTOSELECT=YES,CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog",URI="subs/index.m3u8"'
)
LONG = (
    "Madame la présidente, mes chers collègues, ce texte répond à une attente forte de nos "
    "territoires\u00a0: c’est le vœu de nos concitoyens, au cœur de la République. "
    "Soins & proximité ne s’opposent pas. (Applaudissements sur les bancs du groupe RN.) "
    "Nous examinons aujourd'hui les crédits de la mission, qui sont en baisse de 12\u00a0% cette "
    "année par rapport à la précédente, ce que nous regrettons profondément."
)


def paragraph(text: str = LONG, start: float = 10.0, end: float = 50.0) -> Paragraph:
    return Paragraph(
        index=1, start=start, end=end, speaker=Speaker(name="Jean Dupont", group="EPR"), text=text
    )


def transcript_for(sitting: Sitting) -> list[TranscriptIn]:
    return [TranscriptIn(start=c.start, speaker=c.speaker, text=TEXT) for c in sitting.chapters]


def test_cues_hold_two_lines_of_42_characters_cut_at_sentences_and_clauses() -> None:
    pieces = split_text(LONG)
    assert " ".join(pieces) == LONG  # every word, in order
    for piece in pieces:
        cue = paragraph_cues(paragraph(piece))[0]
        assert len(cue.lines) <= 2 and all(len(line) <= 42 for line in cue.lines), cue.lines
    # sentence ends close a cue; a no-break space never starts a line
    assert any(piece.endswith("République.") for piece in pieces)
    assert any(piece == "Soins & proximité ne s’opposent pas." for piece in pieces)
    cues = paragraph_cues(paragraph())
    assert not any(line.startswith(("\u00a0", ":", "%")) for cue in cues for line in cue.lines)


def test_the_first_cue_starts_at_the_paragraph_and_the_others_snap_to_pauses() -> None:
    unsnapped = paragraph_cues(paragraph())
    assert unsnapped[0].start == 10.0
    assert all(cue.end - cue.start <= MAX_CUE_SECONDS + 1e-9 for cue in unsnapped)
    assert all(before.end <= after.start for before, after in itertools.pairwise(unsnapped))
    second = unsnapped[1].start
    # a pause ending 1 s after the nominal time moves the cue there; one 3 s away does not
    snapped = paragraph_cues(paragraph(), [(second + 0.6, second + 1.0), (unsnapped[2].start + 3, 60.0)])
    assert snapped[0].start == 10.0
    assert snapped[1].start == pytest.approx(second + 1.0)
    assert snapped[2].start == pytest.approx(unsnapped[2].start)


def test_a_long_paragraph_in_little_time_keeps_every_cue() -> None:
    cues = paragraph_cues(paragraph(start=0.0, end=2.0))
    assert " ".join(cue.text for cue in cues) == " ".join(
        " ".join(c.lines) for c in paragraph_cues(paragraph())
    )
    assert all(cue.end > cue.start for cue in cues) and cues[-1].end <= 2.0


def test_bad_transcripts_are_refused_naming_the_paragraph() -> None:
    speaker = Speaker(name="Luc Moreau")
    good = TranscriptIn(start=1.0, speaker=speaker, text="Avec quels moyens ?")
    with pytest.raises(TranscriptError, match=r"paragraph 1 \(Luc Moreau\): starts at 40.000 s, outside"):
        normalise_transcript([good, good.model_copy(update={"start": 40.0})], 36.0)
    with pytest.raises(TranscriptError, match=r"paragraph 0 \(Luc Moreau\): 100001 characters"):
        normalise_transcript([good.model_copy(update={"text": "a" * 100_001})], 36.0)
    with pytest.raises(TranscriptError, match=r"paragraph 0 .*end 0.5 is before start 1.0"):
        normalise_transcript([good.model_copy(update={"end": 0.5})], 36.0)
    # unsorted input is sorted; ends default to the next later start
    late = good.model_copy(update={"start": 20.0, "text": "Ensuite."})
    paragraphs = normalise_transcript([late, good], 36.0)
    assert [(p.index, p.start, p.end, p.text) for p in paragraphs] == [
        (1, 1.0, 20.0, "Avec quels moyens ?"),
        (2, 20.0, 36.0, "Ensuite."),
    ]


@pytest.fixture(scope="module")
def worded(
    tmp_path_factory: pytest.TempPathFactory, sitting: Sitting, ffmpeg: str, small_ladder: Ladder
) -> Rendition:
    outdir = tmp_path_factory.mktemp("worded") / "v1"
    return asyncio.run(
        build_rendition(
            sitting.path,
            outdir,
            ladder=small_ladder,
            chapters=sitting.chapters,
            starts_at=STARTS_AT,
            ffmpeg=ffmpeg,
            transcript=transcript_for(sitting),
        )
    )


def test_the_master_offers_the_words_to_every_variant(worded: Rendition) -> None:
    text = worded.master.read_text()
    assert MEDIA_LINE in text.splitlines()
    master = m3u8.load(str(worded.master))
    assert [v.stream_info.subtitles for v in master.playlists] == ["subs"] * len(master.playlists)


def test_subs_are_segmented_like_the_audio_with_timestamp_maps(worded: Rendition) -> None:
    audio = m3u8.load(str(worded.directory / "a64" / "index.m3u8"))
    subs = m3u8.load(str(worded.directory / "subs" / "index.m3u8"))
    assert subs.playlist_type == "vod" and subs.is_endlist
    assert [s.duration for s in subs.segments] == pytest.approx(
        [s.duration for s in audio.segments], abs=1e-3
    )
    assert [s.uri for s in subs.segments] == [f"sub_{n}.vtt" for n in range(len(audio.segments))]
    start = 0.0
    for segment in subs.segments:
        document = webvtt.read(str(worded.directory / "subs" / segment.uri))
        assert document.metadata == ["X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000"]
        end = start + segment.duration
        for caption in document.captions:  # only what is said during the segment (edges repeated)
            assert caption.start_time.in_milliseconds() / 1000 < end + 1e-3
            assert caption.end_time.in_milliseconds() / 1000 > start - 1e-3
        start = end


def test_transcript_files_carry_voices_and_paragraphs(worded: Rendition, sitting: Sitting) -> None:
    whole = webvtt.read(str(worded.directory / "transcript.vtt"))
    voices = {caption.voice for caption in whole.captions}
    assert voices == {f"{c.speaker.name} ({c.speaker.group})" for c in sitting.chapters}
    starts = {round(c.start_time.in_milliseconds() / 1000, 3) for c in whole.captions}
    assert {round(c.start, 3) for c in sitting.chapters} <= starts  # each paragraph's first cue: its own time
    listed = json.loads((worded.directory / "transcript.json").read_text())
    assert [p["index"] for p in listed] == [1, 2, 3, 4]
    assert [p["chapter"] for p in listed] == [1, 2, 3, 4]
    assert listed[1]["speaker"] == {"id": "PA1008", "name": "Marine Le Pen", "group": "RN"}
    assert listed[1]["text"] == TEXT and listed[1]["end"] == pytest.approx(listed[2]["start"])


def test_cue_starts_inside_a_paragraph_land_on_pauses_in_the_audio(
    worded: Rendition, ffmpeg: str, tmp_path: Path
) -> None:
    """espeak-ng pauses at sentence ends, where cues are cut: a cue starts as the speech resumes."""
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-i",
            str(worded.directory / "download.m4a"),
            "-af",
            with_silence_detection(None),
            "-f",
            "null",
            "-",
        ],
        cwd=tmp_path,
        check=True,
    )
    resumes = [end for _start, end in read_pauses(tmp_path, worded.duration)]
    assert resumes
    whole = webvtt.read(str(worded.directory / "transcript.vtt"))
    starts = [c.start_time.in_milliseconds() / 1000 for c in whole.captions]
    inside = [r for r in resumes for p in worded.transcript if p.start + 1 < r < p.end - 1]
    assert len(inside) >= 3, resumes
    for resume in inside:
        assert min(abs(start - resume) for start in starts) < 0.08, (resume, starts)


def test_ffmpeg_reads_the_subtitle_rendition(worded: Rendition, ffmpeg: str) -> None:
    run = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(worded.directory / "subs" / "index.m3u8"), "-f", "webvtt", "-"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "Marine Le Pen" not in run.stdout  # FFmpeg drops the voice span, keeps the words
    assert "l'article premier fixe les conditions" in run.stdout


def test_a_bad_transcript_fails_the_cli_naming_the_paragraph_and_writes_nothing(
    tmp_path: Path, sitting: Sitting
) -> None:
    bad = [
        {"start": 1.0, "speaker": {"name": "Luc Moreau"}, "text": "Avec quels moyens ?"},
        {"start": 999.0, "speaker": {"name": "Amina Benali"}, "text": "Trop tard."},
    ]
    outdir = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "packager",
            str(sitting.path),
            str(outdir),
            "-q",
            "--ladder",
            "speech-fast",
            "--transcript",
            str(write_json(tmp_path / "t.json", bad)),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "paragraph 1 (Amina Benali): starts at 999.000 s, outside the sitting" in run.stderr
    assert not outdir.exists()
    missing_text = [{"start": 1.0, "speaker": {"name": "Luc Moreau"}}]
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "packager",
            str(sitting.path),
            str(outdir),
            "-q",
            "--transcript",
            str(write_json(tmp_path / "t2.json", missing_text)),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "paragraph 0 text: Field required" in run.stderr
