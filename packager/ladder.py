"""Ladder presets: which AAC renditions a sitting is packaged into."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

# Presets live in the repository's config/ladders; a path to any JSON file works too.
PRESET_DIR = Path(__file__).resolve().parent.parent / "config" / "ladders"
DEFAULT_LADDER = "speech"
_CONTAINER_BPS = 10_000  # see Rung.nominal_bandwidth


class LadderError(ValueError):
    """A ladder preset that cannot be found or does not describe a usable ladder."""


class Rung(BaseModel):
    """One rendition: its directory name, container and AAC parameters."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    kind: Literal["fmp4", "ts"]
    bitrate: int = Field(ge=8_000, le=512_000, description="bits per second")
    channels: Literal[1, 2]
    sample_rate: Literal[16000, 22050, 24000, 32000, 44100, 48000]

    @property
    def encoding_key(self) -> tuple[int, int, int]:
        """Rungs with the same key can share one AAC encoding (e.g. the TS fallback and its fMP4 twin)."""
        return (self.bitrate, self.channels, self.sample_rate)

    @property
    def nominal_bandwidth(self) -> int:
        """A bandwidth to announce before segments are measured (live, a version still being packaged):
        never below what a 2-6 s window of segments then delivers, as BANDWIDTH must be (RFC 8216 §4.3.4.2).

        FFmpeg's AAC encoder overshoots its bit rate by up to ~20 % over a few seconds of speech, and the
        container adds about 10 kbit/s whatever the rate (fMP4: a moof per part and 8 bytes per frame;
        TS: 7 bytes of ADTS per frame, packet and PES headers); TS also pads the last packet of each PES
        (a third more, with a margin). Measured on speech, 2 s live segments: peaks of 1.19-1.42x the bit
        rate for fMP4 (the 32k rung the most, its overhead being the largest share), 1.61x for TS.
        """
        factor = 1.6 if self.kind == "ts" else 1.25
        return math.ceil(self.bitrate * factor + _CONTAINER_BPS)


class Ladder(BaseModel):
    name: str
    description: str = ""
    segment_duration: float = Field(default=6.0, ge=2.0, le=10.0)
    aac_coder: Literal["twoloop", "fast", "anmr"] = "twoloop"
    rungs: list[Rung] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_rungs(self) -> Ladder:
        names = [rung.name for rung in self.rungs]
        if len(set(names)) != len(names):
            raise ValueError(f"rung names must be unique, got {names}")
        if not any(rung.kind == "fmp4" for rung in self.rungs):
            raise ValueError("a ladder needs at least one fmp4 rung (download.m4a is made from one)")
        return self

    @property
    def fmp4_rungs(self) -> list[Rung]:
        return [rung for rung in self.rungs if rung.kind == "fmp4"]

    @property
    def top_rung(self) -> Rung:
        """The fMP4 rung download.m4a is remuxed from: the richest one."""
        return max(self.fmp4_rungs, key=lambda rung: (rung.bitrate, rung.channels, rung.sample_rate))


def load_ladder(spec: str | Path | Ladder = DEFAULT_LADDER) -> Ladder:
    """A ladder from a preset name (`speech`), a path to a JSON file, or an already built Ladder."""
    if isinstance(spec, Ladder):
        return spec
    path = Path(spec)
    if not path.suffix and path.name == str(spec):
        path = PRESET_DIR / f"{spec}.json"
        if not path.is_file():
            known = sorted(p.stem for p in PRESET_DIR.glob("*.json"))
            raise LadderError(f"unknown ladder preset {spec!r} (known: {', '.join(known) or 'none'})")
    if not path.is_file():
        raise LadderError(f"ladder file not found: {path}")
    try:
        return Ladder.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise LadderError(f"invalid ladder {path}: {exc}") from exc


def twin_of(rung: Rung, ladder: Ladder) -> Rung | None:
    """The fMP4 rung with a TS rung's AAC parameters (its segments become the TS rung's), if any."""
    if rung.kind != "ts":
        return None
    return next((r for r in ladder.fmp4_rungs if r.encoding_key == rung.encoding_key), None)
