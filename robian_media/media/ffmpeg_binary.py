"""Which FFmpeg binary to run: the configured one, else the packager's default (FFmpeg 9 wheel, else PATH)."""

from __future__ import annotations

from packager.ffmpeg import default_ffmpeg


def resolve_ffmpeg(configured: str | None) -> str:
    if configured:
        return configured
    try:
        return default_ffmpeg()
    except FileNotFoundError:
        return "ffmpeg"  # /health/ready reports it missing
