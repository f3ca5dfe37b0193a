"""The yt-dlp subprocess: ``python -m robian_media.ingest.sources.ytdlp_child`` with a JSON request on stdin.

Running yt-dlp in its own process lets a cancel kill it (with the ffmpeg it may start), keeps its
blocking I/O off the server's event loop, and lets :class:`SocketGuard` police every socket it opens.
It answers on stdout with one JSON object per line: ``progress`` messages, then ``done`` or ``error``;
yt-dlp's own log goes to stderr.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import IO, Any

from .fetch_policy import FetchPolicy
from .socket_guard import SocketGuard
from .ytdlp_outcomes import TooLarge, check_info, classify, live_stream


class Reporter:
    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def send(self, message: dict[str, Any]) -> None:
        self._out.write(json.dumps(message) + "\n")
        self._out.flush()


class StderrLogger:
    """yt-dlp prints to stdout unless given a logger; stdout is our protocol channel.

    It also remembers yt-dlp's one notice of a file over ``max_filesize``: yt-dlp then skips the
    download without raising, and the job should say why.
    """

    def __init__(self) -> None:
        self.too_large: str | None = None

    def debug(self, msg: str) -> None:
        if "larger than max-filesize" in msg:
            announced = re.search(r"\((\d+) bytes >", msg)
            self.too_large = f"it announces {announced.group(1)} bytes" if announced else "its size says so"
        if not msg.startswith("[debug] "):
            print(msg, file=sys.stderr)

    info = debug

    def warning(self, msg: str) -> None:
        print(f"WARNING: {msg}", file=sys.stderr)

    def error(self, msg: str) -> None:
        print(msg, file=sys.stderr)


def find_live(request: dict[str, Any], reporter: Reporter) -> None:
    """Extraction only: the page's live HLS manifest (``type: live``) or an error."""
    import yt_dlp

    guard = SocketGuard(FetchPolicy.from_json(request["policy"]))
    guard.install()
    options: dict[str, Any] = {
        "noplaylist": True,
        "playlist_items": "1",
        "logger": StderrLogger(),
        "quiet": True,
        "extractor_retries": 0,
        "socket_timeout": 20,
        "proxy": "",
        "cachedir": False,
        "no_color": True,
    }
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(request["url"], download=False)
            if info.get("_type") == "playlist":
                info = next((e for e in info.get("entries") or [] if e), None) or {}
    except Exception as exc:
        kind, message = classify(exc, guard)
        if kind == "unsupported":
            message = "This page has no live stream now (no HLS stream was found in it)."
        reporter.send({"type": "error", "kind": kind, "message": message})
        return
    reporter.send(live_stream(info))


def run(request: dict[str, Any], reporter: Reporter) -> None:
    if request.get("mode") == "live":
        find_live(request, reporter)
        return
    import yt_dlp

    guard = SocketGuard(FetchPolicy.from_json(request["policy"]))
    guard.install()
    max_bytes = int(request["max_bytes"])

    def on_progress(status: dict[str, Any]) -> None:
        downloaded = status.get("downloaded_bytes") or 0
        if downloaded > max_bytes:
            raise TooLarge(f"The source is larger than the {max_bytes} bytes allowed.")
        if status.get("status") == "finished":
            reporter.send({"type": "downloaded"})  # the rate watchdog stops here
        if status.get("status") != "downloading":
            return
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        fraction = None
        if total:
            fraction = min(1.0, downloaded / total)
        elif status.get("fragment_count"):
            fraction = min(1.0, (status.get("fragment_index") or 0) / status["fragment_count"])
        reporter.send({"type": "progress", "downloaded": downloaded, "total": total, "fraction": fraction})

    logger = StderrLogger()
    options: dict[str, Any] = {
        "format": "bestaudio/best",
        "outtmpl": {"default": str(Path(request["out_dir"]) / "source.%(ext)s")},
        "paths": {"home": request["out_dir"], "temp": request["out_dir"]},
        "noplaylist": True,
        "playlist_items": "1",
        "logger": logger,
        "quiet": True,
        "noprogress": True,
        "progress_hooks": [on_progress],
        "max_filesize": max_bytes,
        # our job queue retries transient failures with backoff; yt-dlp's own retries stay short
        "retries": 2,
        "fragment_retries": 3,
        "extractor_retries": 0,
        "socket_timeout": 20,
        # every download stays in this process, behind the socket guard; an ffmpeg fallback may
        # read local files only
        "external_downloader": {"default": "native"},
        "external_downloader_args": {"ffmpeg_i": ["-protocol_whitelist", "file,crypto,data"]},
        "proxy": "",
        "cachedir": False,
        "no_color": True,
    }
    if request.get("ffmpeg_location"):
        options["ffmpeg_location"] = request["ffmpeg_location"]
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(request["url"], download=False)
            if info.get("_type") == "playlist":
                entries = [e for e in info.get("entries") or [] if e]
                if not entries:
                    raise yt_dlp.utils.UnsupportedError(request["url"])
                info = entries[0]
            refusal = check_info(info, request)
            if refusal is not None:
                kind, message = refusal.split(":", 1)
                reporter.send({"type": "error", "kind": kind, "message": message})
                return
            info = ydl.process_ie_result(info, download=True)
    except Exception as exc:
        kind, message = classify(exc, guard)
        reporter.send({"type": "error", "kind": kind, "message": message})
        return
    downloads = info.get("requested_downloads") or []
    path = downloads[0].get("filepath") if downloads else None
    if not path or not Path(path).is_file():
        if logger.too_large is not None:
            message = f"The source is larger than the {max_bytes} bytes allowed: {logger.too_large}."
            reporter.send({"type": "error", "kind": "too_large", "message": message})
            return
        reporter.send({"type": "error", "kind": "unsupported", "message": "yt-dlp downloaded nothing."})
        return
    reporter.send(
        {
            "type": "done",
            "path": path,
            "title": info.get("title"),
            "duration": info.get("duration"),
            "timestamp": info.get("timestamp") or info.get("release_timestamp"),
            "chapters": [
                {"start": c.get("start_time"), "end": c.get("end_time"), "title": c.get("title")}
                for c in info.get("chapters") or []
            ],
            "extractor": info.get("extractor_key"),
        }
    )


def die_with_parent() -> None:
    """A worker killed with SIGKILL cannot stop us: ask Linux to (other platforms: best effort)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def main() -> int:
    die_with_parent()
    # keep the protocol channel for ourselves: anything printed by libraries goes to stderr
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr
    reporter = Reporter(protocol)
    try:
        request = json.loads(sys.stdin.read())
    except ValueError as exc:
        reporter.send({"type": "error", "kind": "failed", "message": f"bad request: {exc}"})
        return 2
    run(request, reporter)
    return 0


if __name__ == "__main__":
    sys.exit(main())
