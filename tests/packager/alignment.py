"""Where each rung's audio sits in media time: every rung decoded to PCM at one rate (as a player hears it:
no edit list applied, the AAC priming frame played) and cross-correlated against a reference rung."""

from __future__ import annotations

import subprocess
from pathlib import Path

import m3u8
import numpy as np

RATE = 48_000


def decode_rung(ffmpeg: str, rung_dir: Path) -> np.ndarray:
    """The rung's segments end to end (init first for fMP4), decoded to mono float PCM at 48 kHz."""
    playlist = m3u8.load(str(rung_dir / "index.m3u8"))
    parts = [rung_dir / s.uri for s in playlist.segments if s.uri and not s.gap_tag]
    if playlist.segment_map:
        parts.insert(0, rung_dir / playlist.segment_map[0].uri)
    data = b"".join(part.read_bytes() for part in parts)
    pcm = subprocess.run(
        [ffmpeg, "-v", "error", "-i", "pipe:0", "-ac", "1", "-ar", str(RATE), "-f", "f32le", "pipe:1"],
        input=data,
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(pcm, dtype="<f4").astype(np.float64)


def offset_ms(reference: np.ndarray, other: np.ndarray, *, start: float = 1.0, length: float = 8.0) -> float:
    """Milliseconds ``other`` lags ``reference`` (negative: ahead), from the cross-correlation peak of a
    window of ``length`` seconds from ``start``, searched within ±100 ms."""
    lo, n, reach = int(start * RATE), int(length * RATE), int(0.1 * RATE)
    window = reference[lo : lo + n]
    candidates = other[lo - reach : lo + n + reach]
    size = len(candidates) + len(window)
    # the cross-correlation through FFTs (np.correlate is O(n·m): seconds for 8 s of audio)
    spectrum = np.fft.rfft(candidates, size) * np.conj(np.fft.rfft(window, size))
    correlation = np.fft.irfft(spectrum, size)[: len(candidates) - len(window) + 1]
    return float((int(np.argmax(correlation)) - reach) / RATE * 1000)
