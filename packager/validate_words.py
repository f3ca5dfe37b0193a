"""The checks a player would make of a version's words (DESIGN §8), part of packager/validate.py: the
master announces the subtitle rendition on every variant, ``subs/`` is segmented like the audio and
each of its files is WebVTT with an X-TIMESTAMP-MAP, ``transcript.vtt`` and ``transcript.json`` read."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path

import m3u8
import webvtt

from packager.captions import MAX_LINE, MAX_LINES
from packager.playlists import SUBTITLES_GROUP
from packager.transcript_files import TRANSCRIPT_JSON, TRANSCRIPT_VTT

# rungs of different sample rates end their segments up to one AAC frame apart (42.7 ms at 24 kHz)
_FRAME_SLACK = 0.05


def _read_vtt(path: Path, problems: list[str]) -> webvtt.WebVTT | None:
    try:
        return webvtt.from_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, webvtt.errors.MalformedFileError) as exc:
        problems.append(f"{path.relative_to(path.parents[1])}: not readable WebVTT ({exc})")
        return None


def _check_cues(name: str, document: webvtt.WebVTT, problems: list[str]) -> None:
    for caption in document.captions:
        lines = caption.text.split("\n")
        if len(lines) > MAX_LINES or any(len(line) > MAX_LINE for line in lines):
            limit = f"{MAX_LINES} lines of {MAX_LINE} characters"
            problems.append(f"{name}: the cue at {caption.start} holds more than {limit}")
            return


def check_words(
    directory: Path,
    master: m3u8.M3U8,
    durations: Sequence[float],
    problems: list[str],
    discontinuities: Collection[int] = (),
) -> None:
    """Append every problem with the words of ``directory``; ``durations`` are a rung's segment durations,
    ``discontinuities`` the numbers of its segments that follow an EXT-X-DISCONTINUITY."""
    subtitles = [media for media in master.media if media.type == "SUBTITLES"]
    has_files = (directory / TRANSCRIPT_JSON).is_file()
    if not subtitles:
        if has_files:
            problems.append("master.m3u8 does not announce the subtitle rendition of transcript.json")
        return
    media = subtitles[0]
    if media.group_id != SUBTITLES_GROUP:
        problems.append(f'master.m3u8: the subtitles are in group "{media.group_id}", not "subs"')
    for variant in master.playlists:
        if variant.stream_info.subtitles != SUBTITLES_GROUP:
            problems.append(f'{variant.uri}: no SUBTITLES="{SUBTITLES_GROUP}" on its EXT-X-STREAM-INF')
    try:
        json.loads((directory / TRANSCRIPT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"{TRANSCRIPT_JSON}: not readable ({exc})")
    whole = _read_vtt(directory / TRANSCRIPT_VTT, problems)
    if whole is not None:
        _check_cues(TRANSCRIPT_VTT, whole, problems)
    path = directory / media.uri
    try:
        playlist = m3u8.load(str(path))
    except (OSError, ValueError) as exc:
        problems.append(f"{media.uri}: does not load ({exc})")
        return
    if playlist.playlist_type != "vod" or not playlist.is_endlist:
        problems.append(f"{media.uri}: not a finished VOD playlist")
    mine = [segment.duration for segment in playlist.segments]
    if len(mine) != len(durations) or any(
        abs(a - b) > _FRAME_SLACK for a, b in zip(mine, durations, strict=False)
    ):
        problems.append(f"{media.uri}: {len(mine)} segments not matching the audio's {len(durations)}")
    if {n for n, segment in enumerate(playlist.segments) if segment.discontinuity} != set(discontinuities):
        problems.append(f"{media.uri}: its discontinuities are not where the audio's are")
    for segment in playlist.segments:
        document = _read_vtt(path.parent / segment.uri, problems)
        mapped = document is None or any(line.startswith("X-TIMESTAMP-MAP=") for line in document.metadata)
        if not mapped:
            problems.append(f"{media.uri}: {segment.uri} has no X-TIMESTAMP-MAP")
