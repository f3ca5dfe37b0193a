"""Pauses in the audio, found by FFmpeg's ``silencedetect`` on the decode the encode already does (no
second pass): the filter prints its findings through ``ametadata`` into a file beside the segments."""

from __future__ import annotations

import re
from pathlib import Path

SILENCE_FILE = ".silences.txt"
# speech pauses: quieter than -35 dB for at least a quarter of a second
_DETECT = "silencedetect=noise=-35dB:duration=0.25"
_VALUE = re.compile(r"^lavfi\.silence_(start|end)=(-?[\d.]+)$")


def with_silence_detection(audio_filter: str | None) -> str:
    """``audio_filter`` (or none), then pause detection writing SILENCE_FILE (relative to FFmpeg's cwd)."""
    printer = f"ametadata=mode=print:file={SILENCE_FILE}"
    return ",".join(part for part in (audio_filter, _DETECT, printer) if part)


def read_pauses(directory: Path, duration: float) -> list[tuple[float, float]]:
    """(start, end) of every pause listed in ``directory``'s SILENCE_FILE (an open one ends the sitting)."""
    try:
        text = (directory / SILENCE_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    pauses: list[tuple[float, float]] = []
    start: float | None = None
    for line in text.splitlines():
        found = _VALUE.match(line.strip())
        if found is None:
            continue
        kind, value = found.group(1), max(0.0, float(found.group(2)))
        if kind == "start":
            start = value
        elif start is not None:
            pauses.append((start, value))
            start = None
    if start is not None and start < duration:
        pauses.append((start, duration))
    return pauses
