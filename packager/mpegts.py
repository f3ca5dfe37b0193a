"""MPEG-TS continuity counters carried across the segment files of a rung (and where a segment starts).

FFmpeg writes each TS segment with a fresh muxer, so every segment's counters restart at 0: a player
reading the rung as one stream (VLC, GStreamer) sees a discontinuity, and may drop data, at every
segment. Rewriting the 4-bit counter of each packet that carries payload, per PID, continues them.
"""

from __future__ import annotations

PACKET = 188
SYNC = 0x47


def _packets(data: bytes | bytearray) -> range:
    if len(data) % PACKET or any(data[i] != SYNC for i in range(0, len(data), PACKET)):
        raise ValueError("not a stream of 188-byte MPEG-TS packets")
    return range(0, len(data), PACKET)


def continue_counters(data: bytes, counters: dict[int, int]) -> bytes:
    """``data`` with each PID's counters following on from ``counters`` (updated: the last one per PID)."""
    out = bytearray(data)
    for offset in _packets(out):
        if not (out[offset + 3] >> 4) & 0x1:
            continue  # adaptation field only: the counter does not advance
        pid = (out[offset + 1] & 0x1F) << 8 | out[offset + 2]
        counter = (counters[pid] + 1) % 16 if pid in counters else out[offset + 3] & 0x0F
        out[offset + 3] = (out[offset + 3] & 0xF0) | counter
        counters[pid] = counter
    return bytes(out)


def last_counters(data: bytes) -> dict[int, int]:
    """The counters a segment ends with (to go on after it, e.g. when a recording resumes)."""
    counters: dict[int, int] = {}
    for offset in _packets(data):
        if (data[offset + 3] >> 4) & 0x1:
            counters[(data[offset + 1] & 0x1F) << 8 | data[offset + 2]] = data[offset + 3] & 0x0F
    return counters


def first_pts(data: bytes) -> int:
    """The PTS (90 kHz ticks) of the first PES packet of ``data`` that has one."""
    for offset in _packets(data):
        header = data[offset + 3]
        if not data[offset + 1] & 0x40 or not header & 0x10:
            continue  # no payload, or not the start of a PES packet (or a table)
        start = offset + 4 + (1 + data[offset + 4] if header & 0x20 else 0)
        pes = data[start : offset + PACKET]
        if pes[:3] == b"\x00\x00\x01" and len(pes) >= 14 and pes[7] & 0x80:
            p = pes[9:14]
            return (p[0] >> 1 & 0x07) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | p[4] >> 1
    raise ValueError("no PES packet with a PTS")
