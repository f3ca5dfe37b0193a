"""How the ladder's encodes are spread over FFmpeg processes."""

from __future__ import annotations

from packager.encode import encode_processes, group_encodings, plan_encodings
from packager.ladder import load_ladder


def test_the_stereo_rung_has_a_core_to_itself_on_two_cores() -> None:
    """It costs about as much as the three mono rungs together: anything beside it leaves the other core
    idle at the end (FFmpeg 5.1 runs a process's encoders one after the other)."""
    groups = group_encodings(plan_encodings(load_ladder("speech")), 2)
    names = sorted(sorted(rung.name for encoding in group for rung in encoding.rungs) for group in groups)
    assert names == [["a128"], ["a32", "a64", "a96", "ts64"]]


def test_a_threaded_ffmpeg_encodes_the_ladder_in_one_process() -> None:
    assert encode_processes(9) == 1
    assert encode_processes(9, processes=3) == 3
    assert encode_processes(5) >= 1
