"""CMAF box surgery on the fragmented MP4 files FFmpeg's segment muxer writes.

Each file the muxer writes is a whole fragmented MP4 (ftyp, moov, moof+mdat…, mfra) whose decode time
restarts at 0. HLS wants one init segment (ftyp+moov) and media segments holding only moof+mdat, with
`tfdt` counting from the start of the stream and `mfhd` sequence numbers increasing.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf"}
_INIT_BOXES = {b"ftyp", b"moov"}
_MEDIA_BOXES = {b"moof", b"mdat"}


class BoxError(ValueError):
    """The bytes are not the fragmented MP4 this module expects."""


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int
    header: int
    end: int


def boxes(data: bytes | bytearray, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes laid end to end in data[start:end]."""
    end = len(data) if end is None else end
    offset = start
    while offset < end:
        if end - offset < 8:
            raise BoxError(f"truncated box header at {offset}")
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            raise BoxError(f"box {kind!r} at {offset} overruns its parent")
        yield Box(kind, offset, header, offset + size)
        offset += size


def _child(data: bytes | bytearray, parent: Box, kind: bytes) -> Box | None:
    children = boxes(data, parent.start + parent.header, parent.end)
    return next((box for box in children if box.type == kind), None)


def _find(data: bytes | bytearray, path: list[bytes], start: int = 0, end: int | None = None) -> Box | None:
    box = next((b for b in boxes(data, start, end) if b.type == path[0]), None)
    for kind in path[1:]:
        if box is None:
            return None
        box = _child(data, box, kind)
    return box


@dataclass(frozen=True)
class Track:
    timescale: int
    default_duration: int


def read_track(init: bytes) -> Track:
    """Timescale (mdhd) and default sample duration (trex) of the single track of an init segment."""
    mdhd = _find(init, [b"moov", b"trak", b"mdia", b"mdhd"])
    if mdhd is None:
        raise BoxError("no moov/trak/mdia/mdhd")
    version = init[mdhd.start + 8]
    (timescale,) = struct.unpack_from(">I", init, mdhd.start + (28 if version == 1 else 20))
    trex = _find(init, [b"moov", b"mvex", b"trex"])
    default_duration = struct.unpack_from(">I", init, trex.start + 20)[0] if trex else 0
    return Track(timescale=timescale, default_duration=default_duration)


def split_init(data: bytes) -> bytes:
    """ftyp+moov of a muxer file: the init segment shared by all media segments of a rung."""
    parts = [data[box.start : box.end] for box in boxes(data) if box.type in _INIT_BOXES]
    if len(parts) != 2:
        raise BoxError("expected one ftyp and one moov")
    return b"".join(parts)


def _traf_duration(data: bytearray, traf: Box, track: Track) -> int:
    tfhd = _child(data, traf, b"tfhd")
    if tfhd is None:
        raise BoxError("traf without tfhd")
    (flags,) = struct.unpack_from(">I", data, tfhd.start + 8)
    flags &= 0xFFFFFF
    offset = tfhd.start + 16  # after version/flags and track_ID
    offset += 8 if flags & 0x01 else 0  # base-data-offset
    offset += 4 if flags & 0x02 else 0  # sample-description-index
    default_duration = struct.unpack_from(">I", data, offset)[0] if flags & 0x08 else track.default_duration
    total = 0
    for trun in (box for box in boxes(data, traf.start + traf.header, traf.end) if box.type == b"trun"):
        (trun_flags, count) = struct.unpack_from(">II", data, trun.start + 8)
        trun_flags &= 0xFFFFFF
        if not trun_flags & 0x100:
            total += count * default_duration
            continue
        cursor = trun.start + 16 + (4 if trun_flags & 0x01 else 0) + (4 if trun_flags & 0x04 else 0)
        stride = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if trun_flags & bit)
        for _ in range(count):
            total += struct.unpack_from(">I", data, cursor)[0]
            cursor += stride
    return total


@dataclass(frozen=True)
class Fragment:
    data: bytes
    duration: int  # in track timescale units


def to_media_segment(data: bytes, track: Track, decode_time: int, sequence: int) -> Fragment:
    """moof+mdat pairs of a muxer file with tfdt moved to `decode_time` and mfhd numbered from `sequence`."""
    kept = bytearray()
    for box in boxes(data):
        if box.type in _MEDIA_BOXES:
            kept += data[box.start : box.end]
    if not kept:
        raise BoxError("no moof/mdat in segment")
    duration = 0
    for moof in [box for box in boxes(kept) if box.type == b"moof"]:
        mfhd = _child(kept, moof, b"mfhd")
        if mfhd is not None:
            struct.pack_into(">I", kept, mfhd.start + 12, sequence)
            sequence += 1
        for traf in (box for box in boxes(kept, moof.start + moof.header, moof.end) if box.type == b"traf"):
            tfdt = _child(kept, traf, b"tfdt")
            if tfdt is None:
                raise BoxError("traf without tfdt")
            if kept[tfdt.start + 8] == 1:
                struct.pack_into(">Q", kept, tfdt.start + 12, decode_time + duration)
            elif decode_time + duration < 2**32:
                struct.pack_into(">I", kept, tfdt.start + 12, decode_time + duration)
            else:
                # A 32-bit tfdt lasts 24 h at 48 kHz; a sitting never gets there.
                raise BoxError("decode time overflows a version 0 tfdt")
            duration += _traf_duration(kept, traf, track)
    return Fragment(data=bytes(kept), duration=duration)


@dataclass(frozen=True)
class Samples:
    """The samples of one fragment: (duration, size) each, and their bytes end to end."""

    entries: list[tuple[int, int]]
    payload: bytes


def fragment_samples(data: bytes, track: Track) -> Samples:
    """The samples of a single-track moof+mdat (what FFmpeg writes with ``frag_every_frame``)."""
    moof = next((box for box in boxes(data) if box.type == b"moof"), None)
    mdat = next((box for box in boxes(data) if box.type == b"mdat"), None)
    if moof is None or mdat is None:
        raise BoxError("no moof/mdat in fragment")
    traf = _child(data, moof, b"traf")
    tfhd = _child(data, traf, b"tfhd") if traf is not None else None
    if traf is None or tfhd is None:
        raise BoxError("moof without traf/tfhd")
    (flags,) = struct.unpack_from(">I", data, tfhd.start + 8)
    offset = tfhd.start + 16 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
    default_duration = track.default_duration
    if flags & 0x08:
        (default_duration,) = struct.unpack_from(">I", data, offset)
        offset += 4
    default_size = struct.unpack_from(">I", data, offset)[0] if flags & 0x10 else 0
    entries: list[tuple[int, int]] = []
    for trun in (box for box in boxes(data, traf.start + traf.header, traf.end) if box.type == b"trun"):
        (trun_flags, count) = struct.unpack_from(">II", data, trun.start + 8)
        trun_flags &= 0xFFFFFF
        cursor = trun.start + 16 + (4 if trun_flags & 0x01 else 0) + (4 if trun_flags & 0x04 else 0)
        for _ in range(count):
            duration, size = default_duration, default_size
            if trun_flags & 0x100:
                (duration,) = struct.unpack_from(">I", data, cursor)
                cursor += 4
            if trun_flags & 0x200:
                (size,) = struct.unpack_from(">I", data, cursor)
                cursor += 4
            cursor += 4 * sum(1 for bit in (0x400, 0x800) if trun_flags & bit)
            entries.append((duration, size))
    payload = data[mdat.start + mdat.header : mdat.end]
    if sum(size for _, size in entries) != len(payload):
        raise BoxError("sample sizes do not add up to the mdat")
    return Samples(entries, bytes(payload))


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def build_fragment(
    entries: list[tuple[int, int]], payload: bytes, *, sequence: int, decode_time: int
) -> bytes:
    """One CMAF fragment (moof+mdat, track 1, base = moof) holding ``entries``' samples."""
    mfhd = _box(b"mfhd", struct.pack(">II", 0, sequence))
    tfhd = _box(b"tfhd", struct.pack(">II", 0x020000, 1))  # default-base-is-moof
    tfdt = _box(b"tfdt", struct.pack(">IQ", 1 << 24, decode_time))
    # data-offset, sample-duration, sample-size present
    trun_size = 8 + 12 + 8 * len(entries)
    traf_size = 8 + len(tfhd) + len(tfdt) + trun_size
    moof_size = 8 + len(mfhd) + traf_size
    samples = b"".join(struct.pack(">II", duration, size) for duration, size in entries)
    trun = _box(b"trun", struct.pack(">IIi", 0x000301, len(entries), moof_size + 8), samples)
    moof = _box(b"moof", mfhd, _box(b"traf", tfhd, tfdt, trun))
    assert len(moof) == moof_size
    return moof + _box(b"mdat", payload)


def fragments(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Each moof+mdat pair of a media segment as (tfdt decode time, its bytes)."""
    moof: Box | None = None
    for box in boxes(data):
        if box.type == b"moof":
            moof = box
        elif box.type == b"mdat" and moof is not None:
            tfdt = _find(data, [b"moof", b"traf", b"tfdt"], moof.start, moof.end)
            if tfdt is None:
                raise BoxError("moof without traf/tfdt")
            if data[tfdt.start + 8] == 1:
                (decode_time,) = struct.unpack_from(">Q", data, tfdt.start + 12)
            else:
                (decode_time,) = struct.unpack_from(">I", data, tfdt.start + 12)
            yield decode_time, data[moof.start : box.end]
            moof = None
