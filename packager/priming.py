"""Encoder delay made equal on every rung, so that all rungs sound the same at the same media time.

FFmpeg's AAC encoder primes each stream with one frame (1024 samples) that players decode and play:
21.3 ms at 48 kHz but 42.7 ms at 24 kHz, so a 24 kHz rung played 21.3 ms behind the others (RFC 8216
§6.2.4 wants matching content at matching timestamps; an ABR switch jumped). Edit lists would fix it
only for players that honour them in fragmented MP4, and MPEG-TS has none: instead, each rung's audio is
delayed by silence up to the ladder's longest priming, so every rung starts its sound at the same instant.
"""

from __future__ import annotations

from collections.abc import Iterable

from packager.timeline import AAC_FRAME


def priming_seconds(sample_rates: Iterable[int]) -> float:
    """The priming every rung ends up with: the longest one of the ladder (its lowest sample rate)."""
    return AAC_FRAME / min(sample_rates)


def padding_samples(sample_rate: int, sample_rates: Iterable[int]) -> int:
    """Samples of silence a rung at ``sample_rate`` starts with so its priming matches the ladder's."""
    return round(priming_seconds(sample_rates) * sample_rate) - AAC_FRAME


def rung_filter(sample_rate: int, sample_rates: Iterable[int]) -> str:
    """The filter one rung's encoder is fed through: its rate, then the padding its priming lacks."""
    pad = padding_samples(sample_rate, sample_rates)
    chain = f"aresample={sample_rate}"
    return f"{chain},adelay=delays={pad}S:all=1" if pad > 0 else chain
