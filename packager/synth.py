"""Synthesised sittings: several espeak-ng voices (FFmpeg lavfi tones without espeak-ng) with known
speaker chapters, for the demo, the tests and the benchmarks. Blocking: run it in a thread."""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .chapters import ChapterIn, parse_chapters

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


def make_sitting(work: Path, ffmpeg: str, repeat: int = 1, gain_db: float = SOURCE_GAIN_DB) -> Sitting:
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
    mix = f"volume={gain_db}dB,pan=stereo|c0=c0|c1=c0"
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
