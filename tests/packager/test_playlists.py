"""Playlist text: what a reader recomputes from it must agree with what was declared."""

from __future__ import annotations

import random

import m3u8

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
        declared, _ = bandwidths(segments)
        text = media_playlist(segments, kind="fmp4", ended=True, chapters=[], starts_at=None)
        parsed = m3u8.loads(text)
        pairs = zip(parsed.segments, sizes, strict=True)
        reread = [MediaSegment(s.uri, s.duration, size) for s, size in pairs]
        assert bandwidths(reread)[0] <= declared


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
