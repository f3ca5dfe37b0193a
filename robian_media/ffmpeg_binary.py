"""Which FFmpeg binary to run: the configured one, else the wheel's FFmpeg 9, else PATH."""

from __future__ import annotations

import shutil


def resolve_ffmpeg(configured: str | None) -> str:
    if configured:
        return configured
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return shutil.which("ffmpeg") or "ffmpeg"
