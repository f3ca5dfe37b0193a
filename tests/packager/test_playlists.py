"""Playlist text: what a reader recomputes from it must agree with what was declared."""

from __future__ import annotations

import random

import m3u8

from packager.chapters import Chapter, Speaker
from packager.playlists import (
    MediaSegment,
    Variant,
    bandwidths,
    master_playlist,
    media_playlist,
    prefixed_master,
)


def test_bandwidth_recomputed_from_the_playlist_never_exceeds_the_declared_one() -> None:
    rng = random.Random(7)
    for _ in range(200):
        sizes = [rng.randint(5_000, 90_000) for _ in range(8)]
        segments = [MediaSegment(f"seg_{i}.m4s", rng.uniform(1, 6), size) for i, size in enumerate(sizes)]
        declared, _ = bandwidths(segments, 6)
        text = media_playlist(segments, kind="fmp4", ended=True, chapters=[], starts_at=None)
        parsed = m3u8.loads(text)
        pairs = zip(parsed.segments, sizes, strict=True)
        reread = [MediaSegment(s.uri, s.duration, size) for s, size in pairs]
        assert bandwidths(reread, parsed.target_duration)[0] <= declared


def test_bandwidth_is_the_peak_over_windows_of_half_to_one_and_a_half_targets() -> None:
    # a recorded live sitting: 2 s segments at 64 kbit/s of audio, then the last one of 0.085 s whose
    # moof and first frame make it 140 kbit/s on its own (it ranked ts64 above a128: issue 21)
    segments = [MediaSegment(f"seg_{i}.m4s", 2.048, 2.048 * 66_000 // 8) for i in range(5)]
    segments.append(MediaSegment("seg_5.m4s", 0.085, int(0.085 * 140_000 / 8)))
    peak, average = bandwidths(segments, 2)
    assert 66_000 <= peak < 70_000  # the last 2 s segment with the 0.085 s one: 68.9 kbit/s
    assert average < peak
    # a set of segments counts as a whole: one denser 2 s segment between two lighter ones is the peak
    segments[2] = MediaSegment("seg_2.m4s", 2.048, 2.048 * 90_000 // 8)
    assert 89_000 < bandwidths(segments, 2)[0] <= 90_000
    # a playlist shorter than half a target: the whole of it
    assert bandwidths([MediaSegment("seg_0.m4s", 0.5, 5_000)], 6)[0] == 80_000


def test_debate_master_is_the_version_master_with_prefixed_uris() -> None:
    variant = Variant(
        name="a64",
        uri="a64/index.m3u8",
        bandwidth=70000,
        average_bandwidth=66000,
        codecs="mp4a.40.2",
        kind="fmp4",
    )
    master = master_playlist([variant])
    top = prefixed_master(master, "v7/")
    assert 'URI="v7/chapters.json"' in top and "\nv7/a64/index.m3u8\n" in top
    parsed = m3u8.loads(top)
    assert [p.uri for p in parsed.playlists] == ["v7/a64/index.m3u8"]
    assert parsed.playlists[0].stream_info.average_bandwidth == 66000


def test_speaker_attributes_have_a_reverse_dns_name_and_keep_the_short_one() -> None:
    chapter = Chapter(
        index=3, start=6.0, end=9.0, speaker=Speaker(id="PA720", name="Yaël Braun-Pivet", group="EPR")
    )
    text = media_playlist(
        [MediaSegment("seg_0.m4s", 6.0, 100)], kind="fmp4", ended=True, chapters=[chapter], starts_at=None
    )
    (daterange,) = [d for s in m3u8.loads(text).segments for d in s.dateranges]
    attributes = dict(daterange.x_client_attrs)
    for prefix in ("x_speaker_", "x_fr_assemblee_nationale_speaker_"):
        assert (attributes[f"{prefix}id"], attributes[f"{prefix}name"]) == ('"PA720"', '"Yaël Braun-Pivet"')
        assert attributes[f"{prefix}group"] == '"EPR"'
