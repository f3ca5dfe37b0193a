"""FFmpeg as an HLS client: the whole sitting decodes through nginx (origin and edge)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.edge.hls_media import DURATION, HlsMedia


async def _decode(url: str) -> tuple[int, str, float]:
    proc = await asyncio.create_subprocess_exec(
        *("ffmpeg", "-nostdin", "-v", "error", "-i", url, "-f", "null", "-progress", "pipe:1", "-"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    decoded = [int(us) / 1e6 for us in re.findall(rb"^out_time_us=(\d+)$", stdout, re.MULTILINE)]
    return proc.returncode or 0, stderr.decode(errors="replace"), max(decoded, default=0.0)


@pytest.mark.parametrize("via", ["origin", "edge"])
@pytest.mark.parametrize("playlist", ["master.m3u8", "v1/ts64/index.m3u8"])
async def test_ffmpeg_decodes_the_sitting_through_nginx(
    hls_media: HlsMedia, fake_api: Any, start_nginx: Any, via: str, playlist: str
) -> None:
    nginx = start_nginx(hls_media, fake_api[1].port, edge=True)
    returncode, errors, decoded = await _decode(f"{getattr(nginx, via)}/hls/{hls_media.debate}/{playlist}")
    assert returncode == 0, errors
    assert errors == ""
    assert decoded >= DURATION - 0.5
