"""Synthesised sittings (espeak-ng voices, FFmpeg lavfi tones as a fallback) and a local HLS server."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from packager.ffmpeg import default_ffmpeg
from packager.ladder import Ladder, Rung
from packager.rendition import Rendition, build_rendition
from packager.synth import STARTS_AT, Sitting, make_sitting


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return default_ffmpeg()


@pytest.fixture(scope="session")
def sitting(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Sitting:
    return make_sitting(tmp_path_factory.mktemp("sitting"), ffmpeg)


@pytest.fixture(scope="session")
def long_sitting(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Sitting:
    """Long enough (~2 min) that a test can act while FFmpeg is still encoding."""
    return make_sitting(tmp_path_factory.mktemp("long"), ffmpeg, repeat=3)


@pytest.fixture(scope="session")
def small_ladder() -> Ladder:
    """Two encodes (24 and 48 kHz) and a TS rung sharing the 48 kHz one: cheap, but every code path."""
    return Ladder(
        name="test",
        rungs=[
            Rung(name="a32", kind="fmp4", bitrate=32000, channels=1, sample_rate=24000),
            Rung(name="a64", kind="fmp4", bitrate=64000, channels=1, sample_rate=48000),
            Rung(name="ts64", kind="ts", bitrate=64000, channels=1, sample_rate=48000),
        ],
    )


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory, sitting: Sitting, ffmpeg: str) -> Rendition:
    """The sitting packaged once with the full default ladder; many tests read it."""
    outdir = tmp_path_factory.mktemp("packaged") / "v1"
    return asyncio.run(
        build_rendition(
            sitting.path,
            outdir,
            ladder="speech",
            chapters=sitting.chapters,
            starts_at=STARTS_AT,
            ffmpeg=ffmpeg,
        )
    )


@pytest.fixture
async def hls_server() -> AsyncIterator[Callable[[Path], Awaitable[str]]]:
    """Serve a directory on 127.0.0.1; returns a function directory -> base URL."""
    runners: list[web.AppRunner] = []

    async def serve(directory: Path) -> str:
        app = web.Application()
        app.router.add_static("/", directory)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield serve
    for runner in runners:
        await runner.cleanup()


async def decode_duration(ffmpeg: str, url: str) -> float:
    """Play `url` to the end with FFmpeg (the HLS client) and return how much audio it decoded."""
    proc = await asyncio.create_subprocess_exec(
        ffmpeg,
        "-v",
        "error",
        "-nostdin",
        "-i",
        url,
        "-f",
        "null",
        "-",
        "-progress",
        "pipe:1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert not err.strip(), err.decode()
    times = re.findall(rb"out_time_us=(\d+)", out)
    return int(times[-1]) / 1e6


def read_chapters(ffmpeg: str, path: Path) -> list[tuple[float, float, str]]:
    """MP4 chapters as FFmpeg reads them back: (start, end, title)."""
    err = subprocess.run([ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    found = re.findall(
        r"Chapter #\d+:\d+: start ([\d.]+), end ([\d.]+)\s*\n\s*Metadata:\s*\n\s*title\s*: (.*)", err
    )
    return [(float(start), float(end), title.strip()) for start, end, title in found]


def measure_lufs(ffmpeg: str, path: Path) -> float:
    err = subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "aresample=48000,ebur128=framelog=verbose",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    ).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", err)[-1])


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def source_segments(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> list[bytes]:
    """12 s of a tone as 2 s MPEG-TS segments, as a live HLS source serves them."""
    work = tmp_path_factory.mktemp("live-source")
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=12:sample_rate=48000",
         "-c:a", "aac", "-b:a", "64k", "-ac", "1", "-f", "hls", "-hls_time", "2", "-hls_list_size", "0",
         "-hls_segment_filename", str(work / "s%d.ts"), str(work / "source.m3u8")],
        check=True,
    )  # fmt: skip
    return [segment.read_bytes() for segment in sorted(work.glob("s*.ts"), key=lambda p: int(p.stem[1:]))]
