"""Test media made on the spot: espeak-ng speech and FFmpeg lavfi tones, never committed binaries."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SPEECH = (
    "Madame la présidente, mes chers collègues, ce texte répond à une attente forte de nos territoires. "
    "L'article premier crée un guichet unique dans chaque département. "
    "Nous soutiendrons ce texte, sous réserve de l'adoption de nos amendements. "
    "Ce texte ne règle rien tant que le financement n'est pas assuré. "
    "Avec quels moyens ? La parole est à monsieur le rapporteur. "
    "Le gouvernement est favorable à cet amendement, qui précise le rôle des agences régionales. "
    "La séance est levée."
)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def speech_wav(path: Path) -> Path:
    subprocess.run(["espeak-ng", "-v", "fr", "-s", "150", "-w", str(path), SPEECH], check=True)
    return path


def tones(path: Path, seconds: float, *codec: str) -> Path:
    """A tone with a little noise (so AAC has something to encode), ``seconds`` long."""
    ffmpeg(
        "-f", "lavfi", "-i", f"sine=frequency=220:duration={seconds}",
        "-f", "lavfi", "-i", f"anoisesrc=d={seconds}:a=0.05",
        "-filter_complex", "amix=inputs=2", "-ac", "1", *codec, str(path),
    )  # fmt: skip
    return path


def make_media(directory: Path) -> Path:
    """speech.m4a (~30 s), hls/master.m3u8 (the same, TS segments), sitting.mp3 (36 s), long.m4a (60 s),
    five-minutes.m4a."""
    directory.mkdir(parents=True, exist_ok=True)
    wav = speech_wav(directory / "speech.wav")
    ffmpeg("-i", str(wav), "-ac", "1", "-c:a", "aac", "-b:a", "64k", str(directory / "speech.m4a"))
    hls = directory / "hls"
    hls.mkdir()
    ffmpeg(
        "-i", str(wav), "-c:a", "aac", "-b:a", "64k", "-f", "hls", "-hls_time", "4",
        "-hls_playlist_type", "vod", "-master_pl_name", "master.m3u8", str(hls / "index.m3u8"),
    )  # fmt: skip
    tones(directory / "sitting.mp3", 36, "-c:a", "libmp3lame", "-b:a", "64k")
    tones(directory / "long.m4a", 60, "-c:a", "aac", "-b:a", "64k")
    # encoding it lasts seconds even on a fast machine: long enough to kill or cancel FFmpeg mid-way
    tones(directory / "five-minutes.m4a", 300, "-c:a", "aac", "-b:a", "32k")
    (directory / "not-audio.m4a").write_bytes(b"this is not an audio file\n" * 100)
    return directory


def copy_into(source: Path, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(source, directory))
