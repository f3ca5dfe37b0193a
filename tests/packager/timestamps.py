"""Reading media timestamps as a player does: the first PTS of an MPEG-TS segment, the ``tfdt`` of a CMAF
segment, the continuity counters of a TS rung."""

from __future__ import annotations

import struct
from pathlib import Path

from packager.cmaf import _find, read_track

TS_PACKET = 188
PTS_CLOCK = 90_000


def ts_packets(data: bytes) -> list[bytes]:
    assert len(data) % TS_PACKET == 0 and all(data[i] == 0x47 for i in range(0, len(data), TS_PACKET))
    return [data[i : i + TS_PACKET] for i in range(0, len(data), TS_PACKET)]


def _payload(packet: bytes) -> bytes:
    control = (packet[3] >> 4) & 0x3
    start = 4 + (1 + packet[4] if control & 0x2 else 0)
    return packet[start:] if control & 0x1 else b""


def ts_first_pts(path: Path) -> float:
    """Seconds: the PTS of the first PES packet (the segment's first audio frame)."""
    for packet in ts_packets(path.read_bytes()):
        payload_start = packet[1] & 0x40
        payload = _payload(packet)
        if payload_start and payload[:3] == b"\x00\x00\x01" and payload[7] & 0x80:
            p = payload[9:14]
            pts = ((p[0] >> 1) & 0x07) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | p[4] >> 1
            return pts / PTS_CLOCK
    raise AssertionError(f"{path}: no PES with a PTS")


def fmp4_start(init: Path, segment: Path) -> float:
    """Seconds: the ``tfdt`` of a CMAF media segment, in its init segment's timescale."""
    track = read_track(init.read_bytes())
    data = segment.read_bytes()
    tfdt = _find(data, [b"moof", b"traf", b"tfdt"])
    assert tfdt is not None, segment
    version = data[tfdt.start + 8]
    (decode_time,) = struct.unpack_from(">Q" if version == 1 else ">I", data, tfdt.start + 12)
    return float(decode_time) / track.timescale


def continuity_breaks(paths: list[Path]) -> int:
    """Continuity-counter jumps a demuxer reading ``paths`` in order meets (per PID, payload only)."""
    last: dict[int, int] = {}
    breaks = 0
    for path in paths:
        for packet in ts_packets(path.read_bytes()):
            pid = (packet[1] & 0x1F) << 8 | packet[2]
            if not (packet[3] >> 4) & 0x1:
                continue
            counter = packet[3] & 0x0F
            if pid in last and counter != (last[pid] + 1) % 16:
                breaks += 1
            last[pid] = counter
    return breaks
