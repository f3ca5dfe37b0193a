"""A media root in the docs/architecture.md §3 layout, from a few seconds of real AAC made by FFmpeg (lavfi).

One published debate version (``v1``, with its ``.complete`` marker), one still being packaged
(``v2``: EVENT playlists, no marker), a live playlist, and the traps a path-escape test needs: a dotfile,
a secret outside the root, symlinks (a file and a directory) pointing at it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

DEBATE_ID = "6f1c2b9e-4d3a-4f7e-9b21-0c8d5e7a3f10"
SECRET = b"TOP-SECRET: nothing outside the media root may ever be served\n"

MASTER = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-SESSION-DATA:DATA-ID="com.apple.hls.chapters",URI="{prefix}chapters.json"
#EXT-X-STREAM-INF:BANDWIDTH=73000,AVERAGE-BANDWIDTH=66000,CODECS="mp4a.40.2"
{prefix}a64/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=90000,AVERAGE-BANDWIDTH=80000,CODECS="mp4a.40.2"
{prefix}ts64/index.m3u8
"""

SPEAKERS = [
    ("PA1", "Mme la présidente", "Ouverture de la séance"),
    ("PA2", "M. Dupont", "Questions au Gouvernement"),
    ("PA3", "Mme Martin", "Réponse du Gouvernement"),
    ("PA4", "M. Bernard", "Projet de loi de finances"),
]
DURATION = 16
CHAPTER = DURATION / len(SPEAKERS)


@dataclass(frozen=True)
class HlsMedia:
    root: Path
    debate: str
    secret: Path

    def file(self, relative: str) -> Path:
        return self.root / relative

    def url_path(self, relative: str) -> str:
        return f"/hls/{relative}"


def _ffmpeg(cwd: Path, *args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], cwd=cwd, check=True, timeout=120)


def _rung(directory: Path, segment_type: str, extension: str) -> None:
    directory.mkdir(parents=True)
    _ffmpeg(
        directory,
        *("-f", "lavfi", "-i", f"sine=frequency=440:duration={DURATION}:sample_rate=48000"),
        *("-c:a", "aac", "-b:a", "64k", "-ac", "1"),
        *("-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod", "-hls_segment_type", segment_type),
        *(["-hls_fmp4_init_filename", "init.mp4"] if segment_type == "fmp4" else []),
        *("-hls_segment_filename", f"seg_%d.{extension}", "index.m3u8"),
    )


def _chapters_json() -> str:
    return json.dumps(
        [
            {
                "chapter": i,
                "start-time": i * CHAPTER,
                "duration": CHAPTER,
                "titles": [{"language": "fr", "title": f"{name} — {topic}"}],
                "metadata": [{"key": "speaker-id", "value": speaker_id}],
            }
            for i, (speaker_id, name, topic) in enumerate(SPEAKERS)
        ],
        ensure_ascii=False,
    )


def _chapters_vtt() -> str:
    def stamp(seconds: float) -> str:
        return f"00:00:{seconds:06.3f}"

    cues = [
        f"{stamp(i * CHAPTER)} --> {stamp((i + 1) * CHAPTER)}\n{name} — {topic}\n"
        for i, (_, name, topic) in enumerate(SPEAKERS)
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


def build_hls_media(base: Path) -> HlsMedia:
    root = base / "media"
    debate_dir = root / DEBATE_ID
    v1 = debate_dir / "v1"
    _rung(v1 / "a64", "fmp4", "m4s")
    _rung(v1 / "ts64", "mpegts", "ts")
    _ffmpeg(
        v1,
        *("-f", "lavfi", "-i", f"sine=frequency=330:duration={DURATION}:sample_rate=48000"),
        *("-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", "download.m4a"),
    )
    (v1 / "master.m3u8").write_text(MASTER.format(prefix=""))
    (v1 / "chapters.json").write_text(_chapters_json(), encoding="utf-8")
    (v1 / "chapters.vtt").write_text(_chapters_vtt(), encoding="utf-8")
    (v1 / ".complete").write_text("")
    (debate_dir / "master.m3u8").write_text(MASTER.format(prefix="v1/"))

    # v2 is still being packaged: its playlists are EVENT playlists without ENDLIST, and no marker
    v2 = debate_dir / "v2"
    shutil.copytree(v1 / "a64", v2 / "a64")
    vod = (v1 / "a64" / "index.m3u8").read_text()
    event = vod.replace("#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-PLAYLIST-TYPE:EVENT").replace(
        "#EXT-X-ENDLIST\n", ""
    )
    (v2 / "a64" / "index.m3u8").write_text(event)
    (v2 / "master.m3u8").write_text(MASTER.format(prefix="").split("#EXT-X-STREAM-INF")[0])

    live = debate_dir / "live"
    shutil.copytree(v1 / "a64", live)
    (live / "index.m3u8").write_text(event)

    (v1 / ".hidden.json").write_text('{"hidden": true}')
    outside = base / "outside"
    outside.mkdir()
    secret = outside / "secret.m4s"
    secret.write_bytes(SECRET)
    (v1 / "a64" / "leak.m4s").symlink_to(secret)
    (v1 / "outside").symlink_to(outside, target_is_directory=True)
    return HlsMedia(root=root, debate=DEBATE_ID, secret=secret)
