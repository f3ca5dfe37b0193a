"""`python -m packager INPUT OUTDIR …`: one version directory
(docs/architecture.md §3 layout) from one source file."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from packager.chapters import ChapterError, ChapterIn, parse_chapters
from packager.ffmpeg import FFmpegError, MediaError, default_ffmpeg
from packager.ladder import DEFAULT_LADDER, LadderError, load_ladder
from packager.loudness import LoudnessTarget
from packager.rendition import build_rendition
from packager.transcript import TranscriptError, TranscriptIn, parse_transcript
from packager.validate import ValidationError

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


class _Reporter:
    """Progress on stderr: one rewritten line on a terminal, a line per 10 % otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self._shown: tuple[str, int] = ("", -1)

    def __call__(self, stage: str, fraction: float) -> None:
        if self.quiet:
            return
        percent = int(fraction * 100)
        if self.tty:
            print(f"\r{stage:<11} {percent:3d}%", end="", file=sys.stderr, flush=True)
        elif (stage, percent // 10) != self._shown:
            self._shown = (stage, percent // 10)
            print(f"{stage} {percent}%", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty and not self.quiet:
            print(file=sys.stderr)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m packager",
        description="Package one audio/video file into a multi-bitrate HLS/AAC ladder with speaker chapters.",
    )
    parser.add_argument("input", type=Path, help="source audio or video file")
    parser.add_argument("outdir", type=Path, help="output directory (created; must be empty if it exists)")
    parser.add_argument(
        "--chapters", type=Path, help="JSON array of {start, end?, speaker: {id?, name, group?}, title?}"
    )
    parser.add_argument(
        "--transcript",
        type=Path,
        help="JSON array of {start, end?, speaker: {id?, name, group?}, text}: the words (captions, subs/)",
    )
    parser.add_argument(
        "--ladder", default=DEFAULT_LADDER, help="preset name or JSON file (default: %(default)s)"
    )
    parser.add_argument("--starts-at", help="sitting start, ISO 8601 (PROGRAM-DATE-TIME and chapter dates)")
    parser.add_argument("--ffmpeg", help="FFmpeg binary (default: imageio-ffmpeg's, else ffmpeg on PATH)")
    parser.add_argument("--target-lufs", type=float, default=-16.0, help="integrated loudness (default: -16)")
    parser.add_argument(
        "--true-peak", type=float, default=-1.5, help="true peak ceiling, dBTP (default: -1.5)"
    )
    parser.add_argument("--no-loudness", action="store_true", help="keep the source loudness")
    parser.add_argument(
        "--processes",
        type=int,
        help="FFmpeg processes encoding the ladder (default: one with FFmpeg 7+, else one per core)",
    )
    parser.add_argument("--title", help="title written into download.m4a")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    return parser.parse_args(argv)


def _starts_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--starts-at: not an ISO 8601 date-time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _chapters(path: Path | None) -> list[ChapterIn]:
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ChapterError(f"cannot read chapters file {path}: {exc.strerror}") from exc
    try:
        return parse_chapters(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ChapterError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc


def _transcript(path: Path | None) -> list[TranscriptIn]:
    if path is None:
        return []
    try:
        return parse_transcript(path.read_bytes())
    except OSError as exc:
        raise TranscriptError(f"cannot read transcript file {path}: {exc.strerror}") from exc


def _fail(message: str, code: int) -> int:
    print(f"packager: error: {' '.join(message.split())}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    reporter = _Reporter(args.quiet)
    try:
        if not args.input.is_file():
            raise MediaError(f"input file not found: {args.input}")
        ladder = load_ladder(args.ladder)
        chapters = _chapters(args.chapters)
        transcript = _transcript(args.transcript)
        starts_at = _starts_at(args.starts_at)
        loudness = LoudnessTarget(
            integrated=args.target_lufs, true_peak=args.true_peak, enabled=not args.no_loudness
        )
        ffmpeg = args.ffmpeg or default_ffmpeg()
        rendition = asyncio.run(
            build_rendition(
                args.input,
                args.outdir,
                ladder=ladder,
                chapters=chapters,
                starts_at=starts_at,
                ffmpeg=ffmpeg,
                loudness=loudness,
                on_progress=reporter,
                processes=args.processes,
                title=args.title,
                transcript=transcript,
            )
        )
    except (MediaError, ChapterError, TranscriptError, LadderError, FileExistsError, ValueError) as exc:
        reporter.done()
        return _fail(str(exc), EXIT_BAD_INPUT)
    except FFmpegError as exc:
        reporter.done()
        last = exc.stderr_tail[-1] if exc.stderr_tail else f"exit {exc.returncode}"
        return _fail(f"ffmpeg failed: {last}", EXIT_FAILED)
    except ValidationError as exc:
        reporter.done()
        return _fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        reporter.done()
        return _fail("interrupted; partial output removed", EXIT_INTERRUPTED)
    reporter.done()
    rates = ", ".join(f"{v.name} {v.average_bandwidth // 1000}k" for v in rendition.variants)
    print(
        f"{rendition.directory}: {rendition.duration:.1f} s, {len(rendition.chapters)} chapters, {rates} "
        f"in {rendition.timings.get('total', 0):.1f} s",
        file=sys.stderr,
    )
    return 0
