"""HLS playlists written by hand: the exact tags docs/architecture.md §3 fixes, nothing FFmpeg adds
on its own."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from packager.chapters import Chapter
from packager.ladder import Rung

CODECS = "mp4a.40.2"
MASTER_NAME = "master.m3u8"
PLAYLIST_NAME = "index.m3u8"
CHAPTERS_DATA_ID = "com.apple.hls.chapters"
SPEAKER_CLASS = "fr.assemblee-nationale.speaker"
SUBTITLES_GROUP = "subs"
# a tag's URI attribute (not an X-…-URI of a date range)
_URI_ATTRIBUTE = re.compile(r'[:,]URI="([^"]*)"')
# Without a known sitting start, the timeline starts at the epoch: START-DATEs then read as offsets.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class MediaSegment:
    uri: str
    duration: float
    size: int


@dataclass(frozen=True)
class Variant:
    """One rung as the master playlist (and the server's stream endpoint) announces it."""

    name: str
    uri: str
    bandwidth: int
    average_bandwidth: int
    codecs: str
    kind: str


def bandwidths(segments: Sequence[MediaSegment], target: int) -> tuple[int, int]:
    """(peak, average) bits per second over the segments, as RFC 8216 §4.3.4.2 defines BANDWIDTH and
    AVERAGE-BANDWIDTH for a playlist whose EXT-X-TARGETDURATION is ``target``.

    The peak segment bit rate is that of the densest set of contiguous segments lasting 0.5 to 1.5 target
    durations: a lone short segment (the last one, a few frames) does not count on its own, or its
    container overhead would rank a rung above richer ones. Without any such set (a very short
    playlist), the whole playlist is the one set.
    """
    # Durations as EXTINF writes them (6 decimals), so that a reader recomputing from the playlist agrees.
    timed = [(segment.size, round(segment.duration, 6)) for segment in segments if segment.duration > 0]
    if not timed:
        return 0, 0
    total_bits = sum(size for size, _ in timed) * 8
    total_seconds = sum(duration for _, duration in timed)
    low, high = 0.5 * target - 1e-6, 1.5 * target + 1e-6
    peak = 0.0
    for first in range(len(timed)):
        bits = seconds = 0.0
        for size, duration in timed[first:]:
            bits += size * 8
            seconds += duration
            if seconds > high:
                break
            if seconds >= low:
                peak = max(peak, bits / seconds)
    if peak == 0.0:
        peak = total_bits / total_seconds
    return math.ceil(peak), math.ceil(total_bits / total_seconds)


def ladder_variants(
    rungs: Iterable[tuple[Rung, Sequence[MediaSegment]]], *, measured: bool, target: float
) -> list[Variant]:
    """The master's entries for rungs and their segments (``target``: the segment target duration):
    measured bandwidths, or the rungs' nominal ones.

    Lowest first within fMP4, the TS fallback last: players start on the first listed variant.
    """
    variants = []
    for rung, segments in rungs:
        peak, average = bandwidths(segments, target_duration(segments, target)) if measured else (0, 0)
        nominal = rung.nominal_bandwidth
        variants.append(
            Variant(
                name=rung.name,
                uri=f"{rung.name}/{PLAYLIST_NAME}",
                bandwidth=peak or nominal,
                average_bandwidth=average or nominal,
                codecs=CODECS,
                kind=rung.kind,
            )
        )
    return sorted(variants, key=lambda v: (v.kind != "fmp4", v.bandwidth))


def playlist_version(kind: str, *, low_latency: bool = False) -> int:
    """The lowest EXT-X-VERSION the playlist's tags need (RFC 8216 §7): 9 for LL-HLS delta updates
    (EXT-X-SKIP), 6 for EXT-X-MAP in a media playlist, 3 for TS with decimal EXTINF. Announcing more than
    needed makes older players refuse a finished playlist they could play."""
    if low_latency:
        return 9
    return 6 if kind == "fmp4" else 3


def iso_date(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _quoted(value: str) -> str:
    # Quoted-strings may not hold a double quote, CR or LF (RFC 8216 §4.2).
    return '"' + " ".join(value.replace('"', "'").split()) + '"'


# RFC 8216 §4.4.5.1: client attributes SHOULD use a reverse-DNS name; the short X-SPEAKER-* names
# (docs/architecture.md §3) stay, for the clients that read them
SPEAKER_ATTRIBUTE_PREFIXES = ("X-SPEAKER-", "X-FR-ASSEMBLEE-NATIONALE-SPEAKER-")


def speaker_attributes(speaker_id: str | None, name: str, group: str | None) -> list[str]:
    """A speaker's DATERANGE client attributes, under each of their names."""
    fields = [("ID", speaker_id), ("NAME", name), ("GROUP", group)]
    return [
        f"{prefix}{key}={_quoted(value)}"
        for prefix in SPEAKER_ATTRIBUTE_PREFIXES
        for key, value in fields
        if value
    ]


def daterange_tag(
    index: int,
    start: float,
    duration: float | None,
    speaker: tuple[str | None, str, str | None],
    starts_at: datetime,
) -> str:
    """``#EXT-X-DATERANGE`` of chapter ``index``; DURATION only once known (live: when the next speaker
    comes), so that the values a tag once had never change (RFC 8216 §4.3.2.7)."""
    attributes = [
        f"ID={_quoted(f'ch-{index}')}",
        f"CLASS={_quoted(SPEAKER_CLASS)}",
        f"START-DATE={_quoted(iso_date(starts_at + timedelta(seconds=start)))}",
    ]
    if duration is not None:
        attributes.append(f"DURATION={duration:.3f}")
    attributes += speaker_attributes(*speaker)
    return "#EXT-X-DATERANGE:" + ",".join(attributes)


def daterange(chapter: Chapter, starts_at: datetime) -> str:
    speaker = (chapter.speaker.id, chapter.speaker.name, chapter.speaker.group)
    return daterange_tag(chapter.index, chapter.start, chapter.duration, speaker, starts_at)


def target_duration(segments: Sequence[MediaSegment], target: float) -> int:
    """EXT-X-TARGETDURATION: the target, or more if a segment rounds above it (never the case by plan)."""
    return max([round(target), *(round(segment.duration) for segment in segments)])


def media_playlist(
    segments: Sequence[MediaSegment],
    *,
    kind: str,
    ended: bool,
    chapters: Sequence[Chapter],
    starts_at: datetime | None,
    target: float = 6.0,
    init_uri: str = "init.mp4",
    discontinuities: Collection[int] = (),
) -> str:
    """A media playlist: EVENT while segments are still coming, VOD with ENDLIST once complete;
    ``discontinuities``: the numbers of the segments an EXT-X-DISCONTINUITY comes before."""
    fmp4 = kind == "fmp4"
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{playlist_version(kind)}",
        f"#EXT-X-TARGETDURATION:{target_duration(segments, target)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        f"#EXT-X-PLAYLIST-TYPE:{'VOD' if ended else 'EVENT'}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    if fmp4:
        lines.append(f'#EXT-X-MAP:URI="{init_uri}"')
    # DATERANGE needs a PROGRAM-DATE-TIME in the playlist; both come before the first segment.
    start = starts_at or EPOCH
    lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{iso_date(start)}")
    lines += [daterange(chapter, start) for chapter in chapters]
    for number, segment in enumerate(segments):
        if number in discontinuities:
            lines.append("#EXT-X-DISCONTINUITY")
        lines += [f"#EXTINF:{segment.duration:.6f},", segment.uri]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def subtitles_media(uri: str) -> str:
    """The EXT-X-MEDIA entry of the words' WebVTT rendition (DESIGN §8, fixed literally)."""
    return (
        f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{SUBTITLES_GROUP}",NAME="Français (compte rendu)",'
        'LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,'
        f'CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog",URI="{uri}"'
    )


def master_playlist(
    variants: Sequence[Variant], *, chapters_uri: str = "chapters.json", subtitles_uri: str | None = None
) -> str:
    """The multivariant playlist of one version; with ``subtitles_uri``, every variant gets the words."""
    # No EXT-X-VERSION: nothing here needs one, and an old TS-only client must still accept this file.
    lines = [
        "#EXTM3U",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-SESSION-DATA:DATA-ID="{CHAPTERS_DATA_ID}",URI="{chapters_uri}"',
    ]
    if subtitles_uri is not None:
        lines.append(subtitles_media(subtitles_uri))
    subtitles = f',SUBTITLES="{SUBTITLES_GROUP}"' if subtitles_uri is not None else ""
    for variant in variants:
        lines += [
            f"#EXT-X-STREAM-INF:BANDWIDTH={variant.bandwidth},AVERAGE-BANDWIDTH={variant.average_bandwidth},"
            f'CODECS="{variant.codecs}"{subtitles}',
            variant.uri,
        ]
    return "\n".join(lines) + "\n"


def playlist_uris(text: str) -> list[str]:
    """Every URI a playlist names (segments, init files, parts, playlists, chapters), in order."""
    found: list[str] = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            found.append(line)
        else:
            found.extend(match.group(1) for match in _URI_ATTRIBUTE.finditer(line))
    return found


def prefixed_master(master: str, prefix: str) -> str:
    """A copy of a version's master whose relative URIs resolve from the parent directory."""
    out: list[str] = []
    for line in master.splitlines():
        if line and not line.startswith("#"):
            line = prefix + line
        elif 'URI="' in line:
            line = line.replace('URI="', f'URI="{prefix}')
        out.append(line)
    return "\n".join(out) + "\n"
