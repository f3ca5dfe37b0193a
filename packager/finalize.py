"""Finishing a version directory, one path for VOD and live (docs/architecture.md §3, ``v{n}/``).

Once the rung playlists are final (VOD type, ``#EXT-X-ENDLIST``): ``chapters.json`` and ``chapters.vtt``,
the master with measured bandwidths, ``download.m4a``, then the checks a player would make
(packager/validate.py). Marking the version complete and switching the debate master to it is
packager/versions.py's part.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from packager.atomic import write_atomic
from packager.chapters import Chapter, apple_chapters, webvtt_chapters
from packager.download import write_download
from packager.ffmpeg import run_all
from packager.playlists import MASTER_NAME, PLAYLIST_NAME, Variant, master_playlist
from packager.threads import run_blocking
from packager.transcript_files import SUBS_PLAYLIST, Words, write_words
from packager.validate import validate_version

# share of this stage the download remux takes (validation, beside it, decodes a segment per rung)
_DOWNLOAD_SHARE = 0.9


def write_chapter_files(directory: Path, chapters: Sequence[Chapter]) -> None:
    """chapters.json (Apple's com.apple.hls.chapters) and chapters.vtt; blocking."""
    text = json.dumps(apple_chapters(chapters), ensure_ascii=False, indent=1)
    write_atomic(directory / "chapters.json", text)
    write_atomic(directory / "chapters.vtt", webvtt_chapters(chapters))


async def finalize_rendition(
    directory: Path,
    *,
    ffmpeg: str,
    variants: Sequence[Variant],
    chapters: Sequence[Chapter],
    download_parts: Sequence[Path],
    duration: float,
    title: str | None = None,
    on_progress: Callable[[float], None] | None = None,
    words: Words | None = None,
    download_written: bool = False,
) -> None:
    """Finish ``directory``, whose rung playlists are final; ValidationError if it is not fit to publish.

    ``variants`` carry measured bandwidths; ``download_parts`` are the top fMP4 rung's init and media
    segments in order; ``duration`` is what every rung must last (the source's, or the recording's).
    ``on_progress`` gets the fraction of this stage done. With ``words``, the transcript files and the
    subtitle rendition (segmented like the top rung) are written and announced in the master.
    ``download_written``: the caller made download.m4a already (a re-cut remuxes it from the version it
    re-cuts, which holds the same samples, while it cuts the rungs).
    """

    def progress(fraction: float) -> None:
        if on_progress is not None:
            on_progress(fraction)

    await run_blocking(write_chapter_files, directory, chapters)
    if words is not None:
        await run_blocking(write_words, directory, words, download_parts[0].parent / PLAYLIST_NAME)
    subtitles = SUBS_PLAYLIST if words is not None else None
    write_atomic(directory / MASTER_NAME, master_playlist(variants, subtitles_uri=subtitles))
    # side by side: the remux and the checks read the same finished segments and write nothing in common
    # (a re-cut wrote its download while it cut the rungs: download_written)
    steps: list[Coroutine[Any, Any, object]] = [
        validate_version(directory, ffmpeg=ffmpeg, source_duration=duration, chapters=chapters)
    ]
    if not download_written:
        steps.append(
            write_download(
                ffmpeg,
                download_parts,
                directory,
                chapters,
                title=title,
                on_time=lambda t: progress(_DOWNLOAD_SHARE * t / max(duration, 1e-6)),
            )
        )
    await run_all(steps)
    progress(1.0)
