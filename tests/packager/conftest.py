"""Synthesised sittings (espeak-ng voices, FFmpeg lavfi tones as a fallback) and a local HLS server."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from packager.chapters import ChapterIn, parse_chapters
from packager.ffmpeg import default_ffmpeg
from packager.ladder import Ladder, Rung
from packager.rendition import Rendition, build_rendition

STARTS_AT = datetime(2025, 1, 15, 15, 0, tzinfo=UTC)
SPEAKERS = [
    ("PA720", "Yaël Braun-Pivet", "EPR", "fr", "Ouverture de la séance"),
    ("PA1008", "Marine Le Pen", "RN", "fr+f3", "Projet de loi de finances"),
    ("PA2150", "Jean-Luc Mélenchon", "LFI", "fr-BE", None),
    ("PA841", "Olivier Faure", "SOC", "fr-CH+m3", "Amendement n° 42"),
]
TEXT = (
    "Monsieur le président, mes chers collègues, l'article premier fixe les conditions générales "
    "de l'équilibre financier. Nous examinons aujourd'hui les crédits de la mission."
)
# Quiet on purpose (about -26 LUFS) so that normalisation to -16 LUFS has real work to do.
SOURCE_GAIN_DB = -8


@dataclass(frozen=True)
class Sitting:
    path: Path
    duration: float
    chapters: list[ChapterIn]

    @property
    def chapter_starts(self) -> list[float]:
        return [chapter.start for chapter in self.chapters]


def _clip(work: Path, index: int, voice: str, ffmpeg: str) -> Path:
    wav = work / f"speaker{index}.wav"
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", str(wav), TEXT], check=True)
    else:
        subprocess.run(
            [
                ffmpeg,
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency={220 * (index + 1)}:duration=9",
                str(wav),
            ],
            check=True,
        )
    return wav


def _wav_duration(path: Path) -> float:
    with wave.open(str(path)) as handle:
        return handle.getnframes() / handle.getframerate()


def make_sitting(work: Path, ffmpeg: str, repeat: int = 1) -> Sitting:
    """4 speakers, each a clip followed by 0.4 s of silence, as stereo 48 kHz AAC in .m4a."""
    work.mkdir(parents=True, exist_ok=True)
    clips = [_clip(work, i, voice, ffmpeg) for i, (_, _, _, voice, _) in enumerate(SPEAKERS)]
    pause = 0.4
    starts, position = [], 0.0
    for _ in range(repeat):
        for clip in clips:
            starts.append(position)
            position += _wav_duration(clip) + pause
    inputs: list[str] = []
    for clip in clips * repeat:
        inputs += ["-i", str(clip)]
    labels = "".join(f"[p{i}]" for i in range(len(clips) * repeat))
    pads = ";".join(f"[{i}:a]aresample=48000,apad=pad_dur={pause}[p{i}]" for i in range(len(clips) * repeat))
    mix = f"volume={SOURCE_GAIN_DB}dB,pan=stereo|c0=c0|c1=c0"
    graph = f"{pads};{labels}concat=n={len(clips) * repeat}:v=0:a=1,{mix}"
    source = work / "sitting.m4a"
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            *inputs,
            "-filter_complex",
            graph,
            "-c:a",
            "aac",
            "-b:a",
            "160k",
            str(source),
        ],
        check=True,
    )
    chapters = parse_chapters(
        [
            {"start": round(start, 3), "speaker": {"id": sid, "name": name, "group": group}, "title": title}
            for start, (sid, name, group, _, title) in zip(starts, SPEAKERS * repeat, strict=True)
        ]
    )
    return Sitting(path=source, duration=position, chapters=chapters)


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
