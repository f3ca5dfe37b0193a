"""A live recording as players other than hls.js meet it (issue 21): a live master that references only
files that exist, rungs cut at the same instants, DATERANGEs that keep their values into the recording,
and the recording's ladder in the right order."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import m3u8
import pytest

from packager.ladder import Ladder, load_ladder
from packager.live.playlist import LiveChapter
from packager.live.recorder import LiveRecording, record_live
from packager.playlists import MediaSegment, bandwidths
from packager.synth import STARTS_AT, Sitting
from packager.timeline import live_durations
from tests.packager.alignment import decode_rung, offset_ms
from tests.packager.timestamps import continuity_breaks, fmp4_start, ts_first_pts


@dataclass
class Recorded:
    debate_dir: Path
    ladder: Ladder
    recording: LiveRecording
    # copies of the version directory: when it became playable, after each speaker change, mid-sitting
    snapshots: dict[str, Path] = field(default_factory=dict)
    missing_at_announce: list[str] = field(default_factory=list)

    @property
    def version_dir(self) -> Path:
        return self.recording.version_dir


def _missing(version_dir: Path) -> list[str]:
    """URIs of the master (variants, SESSION-DATA) that a player loading it now would not find."""
    master = (version_dir / "master.m3u8").read_text()
    uris = [line for line in master.splitlines() if line and not line.startswith("#")]
    uris += re.findall(r'URI="([^"]+)"', master)
    return [uri for uri in uris if not (version_dir / uri).is_file()]


async def _record(work: Path, ffmpeg: str, segments: list[bytes], ladder: Ladder) -> Recorded:
    part, segment = live_durations(0.5, 2.0, [rung.sample_rate for rung in ladder.rungs])
    debate_dir = work / "debate"
    snapshots: dict[str, Path] = {}
    missing: list[str] = []

    def snapshot(name: str) -> None:
        target = work / "snapshots" / name
        shutil.copytree(debate_dir / "v1", target)
        snapshots[name] = target

    async def playable(version: int, starts_at: object, variants: object) -> None:
        missing.extend(_missing(debate_dir / f"v{version}"))
        snapshot("announced")

    async with record_live(
        debate_dir, ladder, ffmpeg=ffmpeg, part_seconds=part, segment_seconds=segment, on_playable=playable
    ) as recorder:
        pdt = STARTS_AT
        for i, data in enumerate(segments):
            await recorder.feed(data, pdt=pdt, input_format="mpegts")
            pdt += timedelta(seconds=2)
            await asyncio.sleep(0.4)  # FFmpeg gets ahead of the next one, as with a real-time source
            if i == 1:
                async with asyncio.timeout(10):
                    while not recorder.playable():
                        await asyncio.sleep(0.05)
                recorder.add_chapters([LiveChapter(1, 0.0, None, "PA720", "Yaël Braun-Pivet", "EPR")])
                snapshot("first-speaker")
            if i == 4:
                # asked for between two segment boundaries: placed on the next one not yet published
                recorder.add_chapters([LiveChapter(2, recorder.edge + 0.7, None, "PA1008", "Marine Le Pen")])
                snapshot("second-speaker")
            if i == len(segments) - 2:
                snapshot("late")
        await recorder.end_input()
        recording = await recorder.finish(title="Séance")
    return Recorded(debate_dir, ladder, recording, snapshots, missing)


@pytest.fixture(scope="module")
def source_segments(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str, sitting: Sitting) -> list[bytes]:
    """The synthesised sitting's first 20 s as 2 s MPEG-TS segments, as a live HLS source serves them."""
    work = tmp_path_factory.mktemp("live-source")
    subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(sitting.path), "-t", "20", "-c:a", "aac", "-b:a", "64k", "-ac", "1",
         "-ar", "48000", "-f", "hls", "-hls_time", "2", "-hls_list_size", "0",
         "-hls_segment_filename", str(work / "s%d.ts"), str(work / "source.m3u8")],
        check=True,
    )  # fmt: skip
    return [segment.read_bytes() for segment in sorted(work.glob("s*.ts"), key=lambda p: int(p.stem[1:]))]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str, source_segments: list[bytes]) -> Recorded:
    """One live sitting recorded with the speech ladder (24 and 48 kHz, mono and stereo, TS)."""
    work = tmp_path_factory.mktemp("live-interop")
    return asyncio.run(_record(work, ffmpeg, source_segments, load_ladder("speech-fast")))


def _chapters_json(version_dir: Path) -> list[dict[str, object]]:
    return list(json.loads((version_dir / "chapters.json").read_text()))


def test_the_live_master_references_only_files_that_exist(recorded: Recorded) -> None:
    # Shaka Player fetches the SESSION-DATA chapters at load and on refreshes: LOAD_FAILED 1002 without it
    assert recorded.missing_at_announce == []
    assert _chapters_json(recorded.snapshots["announced"]) == []
    first = _chapters_json(recorded.snapshots["first-speaker"])
    assert [entry["titles"] for entry in first] == [[{"language": "fr", "title": "Yaël Braun-Pivet"}]]
    second = _chapters_json(recorded.snapshots["second-speaker"])
    assert [entry["chapter"] for entry in second] == [1, 2]
    assert second[0]["duration"] == pytest.approx(
        float(second[1]["start-time"]) - float(second[0]["start-time"])
    )  # type: ignore[arg-type]
    assert "ch-2" in (recorded.snapshots["second-speaker"] / "chapters.vtt").read_text()


def _segments(rung_dir: Path) -> list[m3u8.Segment]:
    return [s for s in m3u8.load(str(rung_dir / "index.m3u8")).segments if s.uri and not s.gap_tag]


def test_the_ts_rung_has_the_timeline_of_the_fmp4_rungs_live(recorded: Recorded) -> None:
    # the muxer's own 1.4 s offset made every ABR switch ts64 <-> fMP4 a 1.4 s jump (RFC 8216 §6.2.4)
    for directory in (recorded.snapshots["late"], recorded.version_dir):
        ts = {s.uri.removesuffix(".ts"): s for s in _segments(directory / "ts64")}
        for segment in _segments(directory / "a64"):
            name = segment.uri.removesuffix(".m4s")
            if name in ts:
                tfdt = fmp4_start(directory / "a64" / "init.mp4", directory / "a64" / segment.uri)
                assert ts_first_pts(directory / "ts64" / ts[name].uri) == pytest.approx(tfdt, abs=1e-4)


def test_every_rung_sounds_the_same_at_the_same_media_time_live(recorded: Recorded, ffmpeg: str) -> None:
    reference = decode_rung(ffmpeg, recorded.version_dir / "a64")
    for rung in ("a32", "a96", "a128", "ts64"):
        lag = offset_ms(reference, decode_rung(ffmpeg, recorded.version_dir / rung), start=2.0)
        assert abs(lag) <= 2.0, f"{rung} is {lag:+.1f} ms from a64"


def test_live_segments_are_cut_at_the_same_instants_in_every_rung(recorded: Recorded) -> None:
    # the 24 kHz rung's segments used to start 43-64 ms before the others' for the same media sequence
    for directory in (recorded.snapshots["late"], recorded.version_dir):
        durations = {
            rung.name: [round(s.duration, 6) for s in _segments(directory / rung.name)]
            for rung in recorded.ladder.rungs
        }
        reference = durations["a64"]
        for rung, mine in durations.items():
            assert mine[: len(reference)] == reference[: len(mine)], rung


def test_ts_continuity_counters_go_on_across_segments_live(recorded: Recorded) -> None:
    ts = recorded.version_dir / "ts64"
    assert continuity_breaks([ts / s.uri for s in _segments(ts)]) == 0


def test_playlists_announce_the_version_their_tags_need(recorded: Recorded) -> None:
    # a finished recording kept LL-HLS's version 9 although it has no part, skip or preload hint left
    def version(path: Path) -> int:
        return int(re.findall(r"#EXT-X-VERSION:(\d+)", path.read_text())[0])

    assert version(recorded.snapshots["late"] / "a64" / "index.m3u8") == 9
    assert version(recorded.version_dir / "a64" / "index.m3u8") == 6
    assert version(recorded.version_dir / "ts64" / "index.m3u8") == 3


def _dateranges(playlist: Path) -> dict[str, dict[str, str]]:
    found = {}
    for line in playlist.read_text().splitlines():
        if line.startswith("#EXT-X-DATERANGE:"):
            attributes = dict(re.findall(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1]))
            found[attributes["ID"]] = attributes
    return found


def test_a_daterange_keeps_its_values_from_live_to_the_recording(recorded: Recorded) -> None:
    # RFC 8216 §4.3.2.7: tags with the same ID agree on every attribute both have; DURATION comes once known
    final = _dateranges(recorded.version_dir / "a64" / "index.m3u8")
    for name in ("first-speaker", "second-speaker", "late"):
        for rung in ("a32", "a64", "ts64"):
            for chapter_id, live in _dateranges(recorded.snapshots[name] / rung / "index.m3u8").items():
                shared = live.keys() & final[chapter_id].keys()
                assert {k: live[k] for k in shared} == {k: final[chapter_id][k] for k in shared}, (name, rung)
    assert all("DURATION" in attributes for attributes in final.values())


def test_live_chapters_start_on_segment_boundaries(recorded: Recorded) -> None:
    for name in ("second-speaker", "late"):
        playlist = recorded.snapshots[name] / "a64" / "index.m3u8"
        starts = {
            segment.current_program_date_time for segment in m3u8.load(str(playlist)).segments if segment.uri
        }
        for attributes in _dateranges(playlist).values():
            start = datetime.fromisoformat(attributes["START-DATE"].strip('"').replace("Z", "+00:00"))
            published = max(starts)
            assert start in starts or start > published, (name, attributes["ID"])


def test_the_live_master_announces_no_less_than_what_is_delivered(recorded: Recorded) -> None:
    # ts64 advertised 70 400 while its segments peaked at 82 629 bit/s, and tied with a64 (issue 21)
    live = recorded.snapshots["late"]
    master = m3u8.load(str(live / "master.m3u8"))
    announced = {p.uri.split("/")[0]: p.stream_info.bandwidth for p in master.playlists}
    for rung, bandwidth in announced.items():
        segments = [
            MediaSegment(s.uri, s.duration, (live / rung / s.uri).stat().st_size)
            for s in _segments(live / rung)
        ]
        peak, _ = bandwidths(segments, 2)
        assert peak <= bandwidth, f"{rung}: announced {bandwidth}, delivered {peak}"
    fmp4 = [announced[name] for name in ("a32", "a64", "a96", "a128")]
    assert fmp4 == sorted(fmp4) and len(set(announced.values())) == len(announced)


def test_the_recordings_ladder_is_in_order(recorded: Recorded) -> None:
    master = m3u8.load(str(recorded.version_dir / "master.m3u8"))
    measured = {p.uri.split("/")[0]: p.stream_info.bandwidth for p in master.playlists}
    assert measured["a32"] < measured["a64"] < measured["a96"] < measured["a128"]
    assert measured["ts64"] < measured["a128"]
