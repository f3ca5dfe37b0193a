"""The players of the matrix, each run as an outsider would: one function per player, one result shape.

hls.js and Shaka Player in Debian's Chromium (browser-player.mjs), GStreamer ``playbin3`` (gst-player.py,
Debian's python3-gst-1.0), VLC 3 (``cvlc``, as the ``robian-player`` user: VLC refuses root), FFmpeg 9
(the imageio-ffmpeg build the packager uses; Debian's 5.1 cannot seek in fMP4 HLS).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE.parent / "e2e" / "node_modules"
CHROMIUM = os.environ.get("ROBIAN_CHROMIUM", "/usr/bin/chromium")
SYSTEM_PYTHON = "/usr/bin/python3"
PLAYER_USER = "robian-player"
BROWSERS = ("hlsjs", "shaka")
PLAYERS = ("ffmpeg", "gstreamer", "vlc", *BROWSERS)


@dataclass
class Played:
    """What a player did: errors from its log, the position after a seek, how far it got."""

    player: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seek: float | None = None
    positions: list[float] = field(default_factory=list)
    reached_end: bool = False
    duration: float | None = None  # the length the player gives the stream (its seek bar's), when it says
    variants: list[int] = field(default_factory=list)
    wall: float = 0.0  # seconds the player ran

    @property
    def advanced(self) -> float:
        """Media seconds played (last position less the first)."""
        return self.positions[-1] - self.positions[0] if len(self.positions) > 1 else 0.0


def missing_tools() -> list[str]:
    checks = [
        ("node", shutil.which("node") is not None),
        (CHROMIUM, Path(CHROMIUM).exists()),
        ("tests/e2e/node_modules (npm ci)", (NODE_MODULES / "shaka-player").is_dir()),
        ("cvlc (vlc-bin)", shutil.which("cvlc") is not None),
        ("runuser", shutil.which("runuser") is not None),
        ("python3-gst-1.0", Path("/usr/lib/python3/dist-packages/gi/overrides/Gst.py").exists()),
    ]
    return [what for what, ok in checks if not ok]


async def _run(*argv: str, timeout: float) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


async def play_browser(player: str, url: str, *, live: bool, seconds: float, seek_to: float | None) -> Played:
    argv = ["node", str(HERE / "browser-player.mjs"), str(NODE_MODULES), player, url]
    argv += ["live" if live else "vod", str(seconds), *([str(seek_to)] if seek_to is not None else [])]
    code, out, err = await _run(*argv, timeout=seconds + 60)
    assert code == 0, err
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    assert result["supported"], f"{player} not supported in this Chromium"
    samples = result["samples"]
    errors = sorted({e for sample in samples for e in sample["errors"]}) + result["consoleErrors"]
    return Played(
        player,
        errors=errors,
        seek=result["seek"],
        positions=[sample["time"] for sample in samples],
        reached_end=any(sample["ended"] for sample in samples),
        duration=samples[-1]["duration"] if samples else None,
        variants=result["variants"],
    )


async def play_gstreamer(url: str, *, live: bool, seconds: float, seek_to: float | None) -> Played:
    argv = [SYSTEM_PYTHON, str(HERE / "gst-player.py"), url, "live" if live else "vod", str(seconds)]
    code, out, err = await _run(*argv, *([str(seek_to)] if seek_to is not None else []), timeout=seconds + 30)
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    return Played(
        "gstreamer",
        errors=result["errors"],
        warnings=result["warnings"],
        seek=result["seek"],
        positions=[p for p in result["positions"] if p is not None],
        reached_end=result["eos"],
    )


# VLC's log lines: "[0000…] module type error: text"
_VLC_LINE = re.compile(r"^\[[0-9a-f]+\] (?P<module>.+?) (?P<level>error|warning|debug): (?P<text>.*)$")


async def play_vlc(
    url: str, *, seconds: float, seek_to: float | None, caching_ms: int | None = None
) -> Played:
    """``cvlc`` with no audio output, as the ``robian-player`` user, for at most ``seconds``
    (``caching_ms``: VLC's network caching, 1000 ms by default)."""
    argv = ["runuser", "-u", PLAYER_USER, "--", "env", "HOME=/tmp", "cvlc", "--verbose=1", "--no-color"]
    argv += ["--aout=dummy", "--no-video", "--no-dbus", "--play-and-exit", "--run-time", str(seconds)]
    if caching_ms is not None:
        argv += [f"--network-caching={caching_ms}"]
    if seek_to is not None:
        argv += ["--start-time", str(seek_to)]
    started = time.monotonic()
    code, _out, err = await _run(*argv, url, timeout=seconds + 30)
    errors, warnings = [], []
    for line in err.splitlines():
        found = _VLC_LINE.match(line.strip())
        # no display, no session bus, no hotkeys on a test machine: VLC's interfaces fail, playback does not
        if found is None or "interface" in found["module"] or "libvlc" in found["module"]:
            continue
        entry = f"{found['module']}: {found['text']}"
        (errors if found["level"] == "error" else warnings).append(entry)
    if code != 0:
        errors.append(f"cvlc exited {code}")
    return Played("vlc", errors=errors, warnings=warnings, wall=time.monotonic() - started)


async def play_ffmpeg(ffmpeg: str, url: str, *, seconds: float, seek_to: float | None) -> Played:
    """Decode ``seconds`` of ``url`` from ``seek_to`` (the whole of it for a VOD when ``seconds`` is 0)."""
    argv = [ffmpeg, "-loglevel", "level+warning", "-nostdin"]
    if seek_to is not None:
        argv += ["-ss", str(seek_to)]
    argv += ["-i", url, *(["-t", str(seconds)] if seconds else []), "-f", "null", "-", "-progress", "pipe:1"]
    code, out, err = await _run(*argv, timeout=(seconds or 60) + 60)
    times = [int(t) / 1e6 for t in re.findall(r"out_time_us=(\d+)", out)]
    lines = [line for line in err.splitlines() if line.strip()]
    played = Played(
        "ffmpeg",
        errors=[line for line in lines if "[warning]" not in line],
        warnings=[line for line in lines if "[warning]" in line],
        positions=times,
    )
    if code != 0:
        played.errors.append(f"ffmpeg exited {code}")
    return played
