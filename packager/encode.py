"""FFmpeg command lines that encode the ladder, cut exactly at the planned instants.

Rungs with identical AAC parameters share one encoding: FFmpeg's `tee` muxer writes the same packets as
fMP4 and as MPEG-TS segments. With FFmpeg 7 and later (encoders in threads) each encoding has its own
process: in one process the encoders advance in lockstep (a few frames of queue between its threads), and
on a busy machine every scheduling delay of one stalls all of them (measured: 2.2x the wall time of
separate processes at a load of 17 on 2 cores). FFmpeg 5.1 runs a process's encoders one after the other:
encodings are spread over one process per core, balanced by their cost.

Separate processes are scheduled fairly, thread by thread, which left the heaviest encode (the stereo
rung, ~45 % of the work) alone on one core at the end, the other idle. So each process runs at a niceness
that makes its share of the CPU proportional to its work (``group_niceness``): the stereo rung keeps a
core, the mono rungs share the other, and all finish together. The scheduler never leaves a core idle for
a niceness, so this costs nothing when there is less work than cores.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from packager.ladder import Ladder, Rung
from packager.priming import rung_filter
from packager.timeline import muxer_times

RAW_DIR = ".raw"
THREADED_FFMPEG = 7  # the first major version whose command line runs encoders and muxers in threads
_SHARE_PER_NICENESS = 1.25  # Linux CFS: each nice level weighs 1.25x less
_MAX_NICENESS = 19
SEGMENT_LIST = "list.csv"
# empty_moov + default_base_moof: a moov without samples and self-contained moofs, i.e. CMAF-shaped fragments.
_MOVFLAGS = "movflags=+frag_keyframe+empty_moov+default_base_moof"


@dataclass(frozen=True)
class Encoding:
    """One AAC encode and the rungs (one fMP4 and/or one TS) its packets are muxed into."""

    rungs: tuple[Rung, ...]

    @property
    def params(self) -> Rung:
        return self.rungs[0]

    @property
    def cost(self) -> float:
        """Relative CPU time of the encode. Measured with the twoloop coder on speech (FFmpeg 5.1 and 9):
        a stereo rung costs 2.3-2.7x a mono one, halving the sample rate saves only ~15 %, and the bitrate
        hardly matters."""
        stereo = 2.5 if self.params.channels == 2 else 1.0
        return stereo * (0.7 + 0.3 * self.params.sample_rate / 48_000)


def plan_encodings(ladder: Ladder) -> list[Encoding]:
    """Rungs grouped by AAC parameters: a TS rung rides on the fMP4 rung it matches."""
    planned: list[list[Rung]] = []
    for rung in ladder.rungs:
        partner = next(
            (
                rungs
                for rungs in planned
                if rungs[0].encoding_key == rung.encoding_key
                and all(other.kind != rung.kind for other in rungs)
            ),
            None,
        )
        if partner is None:
            planned.append([rung])
        else:
            partner.append(rung)
    return [Encoding(tuple(rungs)) for rungs in planned]


def group_encodings(encodings: Sequence[Encoding], processes: int | None = None) -> list[list[Encoding]]:
    """Encodings spread over at most `processes` groups, largest first onto the least loaded (LPT)."""
    count = max(1, min(processes or len(encodings), len(encodings)))
    groups: list[list[Encoding]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for encoding in sorted(encodings, key=lambda e: e.cost, reverse=True):
        lightest = loads.index(min(loads))
        groups[lightest].append(encoding)
        loads[lightest] += encoding.cost
    return [group for group in groups if group]


def default_processes() -> int:
    """One per core."""
    return max(1, os.cpu_count() or 1)


def encode_processes(ffmpeg_major: int, processes: int | None = None) -> int | None:
    """How many FFmpeg processes encode the ladder: ``processes`` if given; else one per encoding (None)
    for a threaded FFmpeg (7 and later), one per core for an older one."""
    if processes is not None:
        return max(1, processes)
    return None if ffmpeg_major >= THREADED_FFMPEG else default_processes()


def group_niceness(groups: Sequence[Sequence[Encoding]]) -> list[int]:
    """The niceness each group's FFmpeg runs at: the CPU share the scheduler gives a thread shrinks by
    ~1.25x per level, so a group with 1/k of the heaviest one's work gets log1.25(k) levels and every
    group gets a share in proportion to its work: all finish together, on a quiet machine (the heaviest
    keeps a core) as on a busy one."""
    loads = [sum(encoding.cost for encoding in group) for group in groups]
    heaviest = max(loads)
    return [min(_MAX_NICENESS, round(math.log(heaviest / load, _SHARE_PER_NICENESS))) for load in loads]


def raw_dir(rung: Rung) -> PurePosixPath:
    return PurePosixPath(rung.name) / RAW_DIR


def _segment_options(rung: Rung, times: str, ts_offset: float = 0.0) -> list[tuple[str, str]]:
    options = [
        ("segment_times", times),
        ("segment_list", str(raw_dir(rung) / SEGMENT_LIST)),
        ("segment_list_type", "csv"),
    ]
    if rung.kind == "fmp4":
        options += [("segment_format", "mp4"), ("segment_format_options", _MOVFLAGS)]
    else:
        # Without max_delay (the tee muxer does not pass FFmpeg's 0.7 s down) every AAC frame gets its own
        # PES packet and the TS rung weighs 1.8x its bitrate. mpegts_copyts: PTS as encoded, not shifted
        # by the muxer's 1.4 s, so that the TS rung and the fMP4 rungs (tfdt) share one timeline. The
        # offset is the inner muxer's: FFmpeg 5 compares the cut times with the shifted timestamps, 9 not.
        offset = f":output_ts_offset={ts_offset:.6f}" if ts_offset else ""
        options += [
            ("segment_format", "mpegts"),
            ("segment_format_options", f"mpegts_copyts=1{offset}"),
            ("max_delay", "700000"),
        ]
    return options


def _pattern(rung: Rung) -> str:
    return str(raw_dir(rung) / ("seg_%d.mp4" if rung.kind == "fmp4" else "seg_%d.ts"))


def segment_output(encoding: Encoding, times: str, *, ts_offset: float = 0.0) -> list[str]:
    """The output arguments that cut ``encoding``'s packets at ``times`` into its rungs' raw segments.

    ``ts_offset``: seconds the TS segments' timestamps are moved by as they are written (a re-cut run
    goes on from where it was); ``times`` count from the first packet all the same."""
    return _output(encoding, times, ts_offset)


def _output(encoding: Encoding, times: str, ts_offset: float = 0.0) -> list[str]:
    if len(encoding.rungs) == 1:
        rung = encoding.rungs[0]
        args = ["-f", "segment"]
        for key, value in _segment_options(rung, times, ts_offset):
            args += [f"-{key}", value]
        return [*args, _pattern(rung)]
    # tee slave options are key=value pairs separated by ':'; '=' inside a value is escaped.
    slaves = []
    for rung in encoding.rungs:
        options = ":".join(
            f"{key}={value.replace('=', chr(92) + '=')}"
            for key, value in [("f", "segment"), *_segment_options(rung, times)]
        )
        slaves.append(f"[{options}]{_pattern(rung)}")
    return ["-f", "tee", "|".join(slaves)]


def encode_args(
    source: str,
    group: Sequence[Encoding],
    *,
    cuts: Sequence[float],
    audio_filter: str | None,
    aac_coder: str,
    sample_rates: Sequence[int],
) -> list[str]:
    """Arguments (after `ffmpeg`) encoding `group`; output paths are relative to the version directory.
    ``sample_rates``: the whole ladder's, whose longest priming every rung is padded to (priming.py)."""
    times = muxer_times(cuts) or "999999"  # one segment: the muxer needs some time
    split_labels = [f"[s{i}]" for i in range(len(group))]
    labels = [f"[e{i}]" for i in range(len(group))]
    chain = audio_filter or "anull"
    split = f",asplit={len(group)}" if len(group) > 1 else ""
    graph = [f"[0:a:0]{chain}{split}{''.join(split_labels)}"]
    for split_label, label, encoding in zip(split_labels, labels, group, strict=True):
        graph.append(f"{split_label}{rung_filter(encoding.params.sample_rate, sample_rates)}{label}")
    args = ["-v", "error", "-y", "-i", source, "-filter_complex", ";".join(graph)]
    for label, encoding in zip(labels, group, strict=True):
        rung = encoding.params
        args += [
            "-map",
            label,
            "-map_metadata",
            "-1",
            "-c:a",
            "aac",
            "-aac_coder",
            aac_coder,
            "-b:a",
            str(rung.bitrate),
            "-ac",
            str(rung.channels),
            "-ar",
            str(rung.sample_rate),
            *_output(encoding, times),
        ]
    return args
