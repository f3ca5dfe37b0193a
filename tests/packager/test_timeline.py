"""Segment planning: frame grid, chapter starts on segment starts, no segment above the target."""

from __future__ import annotations

import itertools
import random

import pytest

from packager.ladder import LadderError, load_ladder
from packager.timeline import frame_grid, plan_cuts, snap


def test_grid_is_common_to_all_rates() -> None:
    assert frame_grid([24000, 48000]) == pytest.approx(1024 / 24000)
    assert frame_grid([48000]) == pytest.approx(1024 / 48000)
    # 44.1 and 48 kHz share a frame boundary only every 3.4 s: use the finest rung's frames instead.
    assert frame_grid([44100, 48000]) == pytest.approx(1024 / 48000)


@pytest.mark.parametrize("seed", range(20))
def test_cuts_hold_every_chapter_start_and_stay_within_target(seed: int) -> None:
    rng = random.Random(seed)
    duration = rng.uniform(5, 600)
    starts = sorted(rng.uniform(0, duration) for _ in range(rng.randint(0, 30)))
    grid = 1024 / 24000
    cuts = plan_cuts(duration, starts, grid, target=6.0)
    assert cuts == sorted(set(cuts))
    for cut in cuts:
        assert abs(cut / grid - round(cut / grid)) < 1e-6
    for start in starts:
        if 0 < snap(start, grid) < duration:
            assert any(abs(snap(start, grid) - cut) < 1e-9 for cut in cuts)
    edges = [0.0, *cuts, duration]
    assert all(round(b - a) <= 6 for a, b in itertools.pairwise(edges))


def test_a_long_span_is_split_evenly_not_into_slivers() -> None:
    cuts = plan_cuts(13.0, [], 1024 / 48000, target=6.0)
    edges = [0.0, *cuts, 13.0]
    lengths = [b - a for a, b in itertools.pairwise(edges)]
    assert len(lengths) == 3 and min(lengths) > 4


def test_ladder_presets_and_files(tmp_path) -> None:
    speech = load_ladder("speech")
    assert [(r.name, r.kind, r.bitrate, r.channels) for r in speech.rungs] == [
        ("a32", "fmp4", 32000, 1),
        ("a64", "fmp4", 64000, 1),
        ("a96", "fmp4", 96000, 1),
        ("a128", "fmp4", 128000, 2),
        ("ts64", "ts", 64000, 1),
    ]
    assert speech.top_rung.name == "a128"
    path = tmp_path / "mine.json"
    path.write_text(
        '{"name": "mine", "rungs": [{"name": "a48", "kind": "fmp4", "bitrate": 48000, '
        '"channels": 1, "sample_rate": 48000}]}'
    )
    assert load_ladder(path).rungs[0].name == "a48"
    assert load_ladder(str(path)).name == "mine"
    with pytest.raises(LadderError, match="unknown ladder preset"):
        load_ladder("nope")
    path.write_text(
        '{"name": "bad", "rungs": [{"name": "t", "kind": "ts", "bitrate": 48000, '
        '"channels": 1, "sample_rate": 48000}]}'
    )
    with pytest.raises(LadderError, match="fmp4"):
        load_ladder(path)
