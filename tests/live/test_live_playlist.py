"""The live playlist text: what plain and LL-HLS clients read, windows, delta updates, positions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import m3u8
import pytest

from packager.live.playlist import (
    LiveChapter,
    LivePart,
    LivePlaylistState,
    LiveSegment,
    live_playlist,
)
from packager.live.reload import playlist_position, skip_segments
from packager.timeline import live_durations

START = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def state(
    segments: int, *, window: float = 0.0, gap_at: int | None = None, open_parts: int = 2
) -> LivePlaylistState:
    built = LivePlaylistState(
        kind="fmp4",
        init_uri="init.mp4",
        segment_target=2.048,
        part_target=0.512,
        starts_at=START,
        window=window,
    )
    for n in range(segments):
        gap = n == gap_at
        built.segments.append(
            LiveSegment(
                number=n,
                uri=f"gap_{n}.m4s" if gap else f"seg_{n}.m4s",
                duration=2.048,
                start=2.048 * n,
                pdt=START + timedelta(seconds=2.048 * n),
                parts=[] if gap else [LivePart(f"part_{n}_{i}.m4s", 0.512) for i in range(4)],
                gap=gap,
                discontinuity=gap_at is not None and n == gap_at + 1,
            )
        )
    built.open_parts = [LivePart(f"part_{segments}_{i}.m4s", 0.512) for i in range(open_parts)]
    built.next_part_uri = f"part_{segments}_{open_parts}.m4s"
    return built


def test_ll_hls_tags_and_parts_only_near_the_edge() -> None:
    text = live_playlist(state(10), [LiveChapter(1, 4.096, None, "PA720", "Yaël Braun-Pivet")])
    assert "#EXT-X-PART-INF:PART-TARGET=0.512" in text
    assert "CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.536,CAN-SKIP-UNTIL=12.0" in text
    assert text.count("#EXT-X-PROGRAM-DATE-TIME") == 11  # every segment, and the one being built
    assert 'URI="part_0_0.m4s"' not in text and 'URI="part_9_3.m4s"' in text  # parts within 3 targets
    assert text.rstrip().endswith('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_10_2.m4s"')
    daterange = next(line for line in text.splitlines() if line.startswith("#EXT-X-DATERANGE"))
    assert 'START-DATE="2026-03-10T15:00:04.096Z"' in daterange and "DURATION" not in daterange
    parsed = m3u8.loads(text)
    assert [s.uri for s in parsed.segments if s.uri][-1] == "seg_9.m4s"
    assert parsed.playlist_type == "event"


def test_position_and_what_a_blocking_reload_waits_for() -> None:
    position = playlist_position(live_playlist(state(10), []))
    assert (position.next_msn, position.open_parts, position.target) == (10, 2, 2.0)
    assert position.has(9, None) and position.has(10, 1)
    assert not position.has(10, 2) and not position.has(10, None) and not position.has(11, 0)


def test_sliding_window_moves_the_media_sequence() -> None:
    text = live_playlist(state(20, window=10.0), [])
    parsed = m3u8.loads(text)
    assert parsed.media_sequence == 15
    assert parsed.playlist_type is None  # a sliding window is neither EVENT nor VOD
    assert playlist_position(text).next_msn == 20


def test_delta_update_skips_old_segments_but_not_a_discontinuity() -> None:
    full = live_playlist(state(12), [])
    delta = skip_segments(full)
    assert "#EXT-X-SKIP:SKIPPED-SEGMENTS=6" in delta  # 12 × 2.048 s: at least the last 12 s kept
    assert "seg_5.m4s" not in delta and "seg_6.m4s" in delta
    assert playlist_position(delta).next_msn == playlist_position(full).next_msn
    with_gap = live_playlist(state(12, gap_at=2), [])
    # the segments before the new run's DISCONTINUITY only: the client must see that tag
    assert "#EXT-X-SKIP:SKIPPED-SEGMENTS=3" in skip_segments(with_gap)


def test_ended_playlist_is_vod_without_parts() -> None:
    ended = state(3)
    ended.ended = True
    text = live_playlist(ended, [])
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    assert "#EXT-X-PART" not in text and "PRELOAD-HINT" not in text and "#EXT-X-PLAYLIST-TYPE:VOD" in text


def test_durations_fall_on_aac_frames_of_every_rung() -> None:
    assert live_durations(0.5, 2.0, [24000, 48000]) == pytest.approx((0.512, 2.048))
    part, segment = live_durations(0.2, 1.0, [48000])  # 10 frames of 21.3 ms, 5 parts
    assert (part, segment) == pytest.approx((10 * 1024 / 48000, 50 * 1024 / 48000))
