"""One version directory with the full default ladder, checked as players and
docs/architecture.md §3 see it."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import m3u8
import pytest

from packager.cmaf import boxes
from packager.rendition import Rendition

from .alignment import decode_rung, offset_ms
from .conftest import STARTS_AT, Sitting, decode_duration, measure_lufs, read_chapters
from .timestamps import continuity_breaks, fmp4_start, ts_first_pts

FRAME_24K = 1024 / 24000  # the coarsest AAC frame in the speech ladder


def media_playlists(rendition: Rendition) -> dict[str, m3u8.M3U8]:
    master = m3u8.load(str(rendition.master))
    return {p.uri.split("/")[0]: m3u8.load(str(rendition.directory / p.uri)) for p in master.playlists}


def segment_starts(playlist: m3u8.M3U8) -> list[float]:
    starts, total = [], 0.0
    for segment in playlist.segments:
        starts.append(total)
        total += segment.duration
    return starts


def test_layout_is_design_section_3(packaged: Rendition) -> None:
    root = packaged.directory
    for name in ("master.m3u8", "chapters.json", "chapters.vtt", "download.m4a"):
        assert (root / name).is_file(), name
    for rung in ("a32", "a64", "a96", "a128"):
        assert (root / rung / "index.m3u8").is_file()
        assert (root / rung / "init.mp4").is_file()
        assert (root / rung / "seg_0.m4s").is_file()
    assert (root / "ts64" / "seg_0.ts").is_file()
    leftovers = [p for p in root.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_master_playlist(packaged: Rendition) -> None:
    text = packaged.master.read_text()
    assert "#EXT-X-INDEPENDENT-SEGMENTS" in text
    assert '#EXT-X-SESSION-DATA:DATA-ID="com.apple.hls.chapters",URI="chapters.json"' in text
    master = m3u8.load(str(packaged.master))
    assert sorted(p.uri for p in master.playlists) == sorted(
        f"{r}/index.m3u8" for r in ("a32", "a64", "a96", "a128", "ts64")
    )
    for playlist in master.playlists:
        info = playlist.stream_info
        assert info.codecs == "mp4a.40.2"
        assert info.bandwidth >= info.average_bandwidth > 0
    by_name = {v.name: v for v in packaged.variants}
    assert (
        by_name["a32"].average_bandwidth
        < by_name["a64"].average_bandwidth
        < by_name["a128"].average_bandwidth
    )


def test_media_playlists(packaged: Rendition, sitting: Sitting) -> None:
    playlists = media_playlists(packaged)
    counts = {len(p.segments) for p in playlists.values()}
    assert len(counts) == 1
    for name, playlist in playlists.items():
        assert playlist.playlist_type == "vod" and playlist.is_endlist
        assert playlist.target_duration == 6
        assert all(round(s.duration) <= playlist.target_duration for s in playlist.segments), name
        assert playlist.segments[0].program_date_time == STARTS_AT
        total = sum(s.duration for s in playlist.segments)
        assert total == pytest.approx(sitting.duration, abs=3 * FRAME_24K), name
        if name.startswith("ts"):
            assert playlist.version == 3 and not playlist.segment_map
        else:
            assert playlist.version >= 6 and playlist.segment_map[0].uri == "init.mp4"


def test_every_chapter_starts_a_segment_in_every_rung(packaged: Rendition, sitting: Sitting) -> None:
    for name, playlist in media_playlists(packaged).items():
        starts = segment_starts(playlist)
        for requested in sitting.chapter_starts:
            nearest = min(starts, key=lambda s: abs(s - requested))
            assert abs(nearest - requested) <= FRAME_24K + 1e-6, (name, requested, nearest)


def test_dateranges_identical_in_every_rung(packaged: Rendition, sitting: Sitting) -> None:
    sets = {}
    for name, playlist in media_playlists(packaged).items():
        ranges = [d for s in playlist.segments for d in s.dateranges]
        sets[name] = sorted(
            (d.id, d.class_, d.start_date, d.duration, tuple(d.x_client_attrs)) for d in ranges
        )
    first = next(iter(sets.values()))
    assert all(value == first for value in sets.values())
    assert [r[0] for r in first] == [f"ch-{i}" for i in range(1, len(sitting.chapters) + 1)]
    assert {r[1] for r in first} == {"fr.assemblee-nationale.speaker"}
    attrs = dict(first[1][4])
    # the short names and their reverse-DNS twins (RFC 8216 §4.4.5.1)
    assert attrs == {
        f"{prefix}{key}": value
        for prefix in ("x_speaker_", "x_fr_assemblee_nationale_speaker_")
        for key, value in (("id", '"PA1008"'), ("name", '"Marine Le Pen"'), ("group", '"RN"'))
    }
    assert first[1][2].startswith("2025-01-15T15:00:")


def test_chapters_json_is_apple_format(packaged: Rendition, sitting: Sitting) -> None:
    entries = json.loads((packaged.directory / "chapters.json").read_text())
    assert isinstance(entries, list) and len(entries) == len(sitting.chapters)
    for number, (entry, given) in enumerate(zip(entries, sitting.chapters, strict=True), start=1):
        assert set(entry) == {"chapter", "start-time", "duration", "titles", "metadata"}
        assert entry["chapter"] == number
        assert entry["start-time"] == pytest.approx(given.start, abs=FRAME_24K)
        assert entry["duration"] > 0
        expected = f"{given.speaker.name} — {given.title}" if given.title else given.speaker.name
        assert entry["titles"] == [{"language": "fr", "title": expected}]
        assert {"key": "speaker-id", "value": given.speaker.id} in entry["metadata"]
    vtt = (packaged.directory / "chapters.vtt").read_text()
    assert vtt.startswith("WEBVTT") and "Marine Le Pen — Projet de loi de finances" in vtt


def test_cmaf_boxes(packaged: Rendition) -> None:
    rung = packaged.directory / "a64"
    init = (rung / "init.mp4").read_bytes()
    assert [b.type for b in boxes(init)] == [b"ftyp", b"moov"]
    decode_time, sequence = 0, 0
    for number in range(3):
        data = (rung / f"seg_{number}.m4s").read_bytes()
        assert {b.type for b in boxes(data)} == {b"moof", b"mdat"}
        moof = next(b for b in boxes(data) if b.type == b"moof")
        mfhd_seq = struct.unpack_from(">I", data, moof.start + 8 + 12)[0]
        assert mfhd_seq > sequence
        sequence = mfhd_seq
        tfdt = data.find(b"tfdt")
        version = data[tfdt + 4]
        value = struct.unpack_from(">Q" if version else ">I", data, tfdt + 8)[0]
        assert value == decode_time
        playlist = m3u8.load(str(rung / "index.m3u8"))
        decode_time += round(playlist.segments[number].duration * 48000)


def test_download_has_chapters_and_target_loudness(
    packaged: Rendition, sitting: Sitting, ffmpeg: str
) -> None:
    download = packaged.directory / "download.m4a"
    chapters = read_chapters(ffmpeg, download)
    assert [title for _, _, title in chapters] == [c.label for c in packaged.chapters]
    assert chapters[1][0] == pytest.approx(sitting.chapters[1].start, abs=FRAME_24K + 1e-3)
    # Source is about -26 LUFS; the target is -16.
    assert measure_lufs(ffmpeg, download) == pytest.approx(-16.0, abs=1.0)
    assert packaged.loudness is not None and packaged.loudness.integrated < -22


def test_faststart(packaged: Rendition) -> None:
    data = (packaged.directory / "download.m4a").read_bytes()
    order = [b.type for b in boxes(data)]
    assert order.index(b"moov") < order.index(b"mdat")


async def test_ffmpeg_plays_the_master_over_http(
    packaged: Rendition, sitting: Sitting, ffmpeg: str, hls_server
) -> None:
    base = await hls_server(packaged.directory)
    assert await decode_duration(ffmpeg, f"{base}/master.m3u8") == pytest.approx(sitting.duration, abs=0.5)
    assert await decode_duration(ffmpeg, f"{base}/ts64/index.m3u8") == pytest.approx(
        sitting.duration, abs=0.5
    )
    assert await decode_duration(ffmpeg, f"{base}/a32/index.m3u8") == pytest.approx(sitting.duration, abs=0.5)


def test_result_describes_the_output(packaged: Rendition, sitting: Sitting) -> None:
    assert packaged.duration == pytest.approx(sitting.duration, abs=3 * FRAME_24K)
    assert [c.index for c in packaged.chapters] == [1, 2, 3, 4]
    assert {v.kind for v in packaged.variants} == {"fmp4", "ts"}
    assert Path(packaged.ffmpeg).name.startswith("ffmpeg")
    assert {"probing", "measuring", "encoding", "finalizing", "first_playable"} <= set(packaged.timings)


async def test_short_video_source_without_chapters(tmp_path: Path, small_ladder, ffmpeg: str) -> None:
    """A 4 s video file: audio only is kept, one segment per rung, no chapters, still valid HLS."""
    import subprocess

    from packager.rendition import build_rendition

    source = tmp_path / "clip.mp4"
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10:duration=4",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=4",
            "-c:v",
            "mpeg4",
            "-c:a",
            "aac",
            "-shortest",
            str(source),
        ],
        check=True,
    )
    rendition = await build_rendition(source, tmp_path / "out", ladder=small_ladder, ffmpeg=ffmpeg)
    assert rendition.chapters == []
    for name in ("a32", "a64", "ts64"):
        playlist = m3u8.load(str(tmp_path / "out" / name / "index.m3u8"))
        assert len(playlist.segments) == 1
        assert not [d for s in playlist.segments for d in s.dateranges]
    assert json.loads((tmp_path / "out" / "chapters.json").read_text()) == []
    assert rendition.duration == pytest.approx(4.0, abs=0.1)


def test_the_ts_rung_has_the_timeline_of_the_fmp4_rungs(packaged: Rendition) -> None:
    # TS PTS and fMP4 tfdt on one clock: the muxer's own 1.4 s offset made every ABR switch ts64 <-> a64
    # a 1.4 s jump, and FFmpeg/GStreamer seeks on the TS rung land 1.4 s early (RFC 8216 §6.2.4)
    directory = packaged.directory
    ts = m3u8.load(str(directory / "ts64" / "index.m3u8")).segments
    fmp4 = m3u8.load(str(directory / "a64" / "index.m3u8")).segments
    assert len(ts) == len(fmp4)
    for ts_segment, fmp4_segment in zip(ts, fmp4, strict=True):
        tfdt = fmp4_start(directory / "a64" / "init.mp4", directory / "a64" / fmp4_segment.uri)
        assert ts_first_pts(directory / "ts64" / ts_segment.uri) == pytest.approx(tfdt, abs=1e-4)


def test_every_rung_sounds_the_same_at_the_same_media_time(packaged: Rendition, ffmpeg: str) -> None:
    # AAC priming is 1024 samples at every rate: 42.7 ms at 24 kHz against 21.3 ms at 48 kHz, so a32 played
    # 21.3 ms late and an ABR switch jumped (RFC 8216 §6.2.4); one frame at 48 kHz is 21.3 ms
    reference = decode_rung(ffmpeg, packaged.directory / "a64")
    for rung in ("a32", "a96", "a128", "ts64"):
        lag = offset_ms(reference, decode_rung(ffmpeg, packaged.directory / rung))
        assert abs(lag) <= 2.0, f"{rung} is {lag:+.1f} ms from a64"


def test_ts_continuity_counters_go_on_across_segments(packaged: Rendition) -> None:
    # a fresh muxer per segment restarted them at 0: VLC and GStreamer logged a discontinuity per segment
    ts = packaged.directory / "ts64"
    segments = [ts / s.uri for s in m3u8.load(str(ts / "index.m3u8")).segments]
    assert len(segments) > 3
    assert continuity_breaks(segments) == 0


def test_vod_playlists_announce_the_version_their_tags_need(packaged: Rendition) -> None:
    for rung, version in (("a64", 6), ("ts64", 3)):
        text = (packaged.directory / rung / "index.m3u8").read_text()
        assert text.splitlines()[1] == f"#EXT-X-VERSION:{version}", rung
