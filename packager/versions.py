"""Versioned, atomic publication of a debate's HLS tree: `{debate}/master.m3u8` → `{debate}/v{n}/…`.

- Version numbers are never reused, not even those of failed attempts whose segments a player or a cache
  may have seen (everything under `v{n}/` is served as immutable): `{debate}/.last_version` remembers the
  highest number handed out, and a new one is 1 + the larger of it and the highest `v{n}` present.
- While packaging, `v{n}` fills progressively (EVENT playlists). If the debate has no complete version yet,
  the debate master points at `v{n}` as soon as every rung has a segment; otherwise it keeps pointing at
  the previous complete version until `v{n}` is finished.
- A version is complete once `v{n}/.complete` exists (written, fsynced, after everything else); only then
  is the debate master switched to it (temp file + fsync + rename).
- Cancellation or failure removes `v{n}` and restores the debate master. A process killed outright leaves an
  incomplete `v{n}`: `recover()` removes it. An flock on `{debate}/.lock` keeps two packagers (and recover)
  from working on one debate at once; the kernel releases it when its process dies.
- Two writers use this: packager/vod.py (a source file) and packager/live/recorder.py (a live recording,
  whose incomplete version carries `.live` so that recover() keeps it for the job to resume).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packager.atomic import fsync_dir, write_atomic
from packager.playlists import MASTER_NAME, prefixed_master

COMPLETE_MARKER = ".complete"
# an incomplete version a live recording is writing: kept by recover() so the live job can resume it
LIVE_MARKER = ".live"
LOCK_NAME = ".lock"
LAST_VERSION = ".last_version"
DEFAULT_KEEP = 2
_VERSION = re.compile(r"^v(\d+)$")
# fsyncs in flight at once when a version is finished (see _fsync_tree)
_FSYNC_THREADS = 16


class DebateBusyError(RuntimeError):
    """Another packager (or recover) holds this debate's lock."""


def versions(debate_dir: Path) -> list[int]:
    """Every version number present, complete or not, ascending."""
    if not debate_dir.is_dir():
        return []
    found = (_VERSION.match(entry.name) for entry in debate_dir.iterdir() if entry.is_dir())
    return sorted(int(match.group(1)) for match in found if match)


def is_complete(debate_dir: Path, version: int) -> bool:
    return (debate_dir / f"v{version}" / COMPLETE_MARKER).is_file()


def complete_versions(debate_dir: Path) -> list[int]:
    return [version for version in versions(debate_dir) if is_complete(debate_dir, version)]


def current_version(debate_dir: Path) -> int | None:
    """The version the debate master points at, if any."""
    try:
        text = (debate_dir / MASTER_NAME).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    found = re.search(r"^v(\d+)/", text, re.MULTILINE)
    return int(found.group(1)) if found else None


@contextlib.contextmanager
def debate_lock(debate_dir: Path) -> Iterator[None]:
    """Hold ``{debate}/.lock`` (DebateBusyError if another packager does): one packager per debate."""
    debate_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(debate_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DebateBusyError(f"{debate_dir} is being packaged by another process") from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def allocate_version(debate_dir: Path) -> int:
    """The next version number, never one handed out before (the debate locked by the caller)."""
    try:
        last = int((debate_dir / LAST_VERSION).read_text(encoding="ascii").strip() or 0)
    except (FileNotFoundError, ValueError):
        last = 0
    present = versions(debate_dir)
    version = max(last, present[-1] if present else 0) + 1
    write_atomic(debate_dir / LAST_VERSION, f"{version}\n", durable=True)
    return version


def _point_master(debate_dir: Path, version: int | None) -> None:
    """Make `{debate}/master.m3u8` a prefixed copy of v{version}'s master, or remove it for None."""
    target = debate_dir / MASTER_NAME
    if version is None:
        target.unlink(missing_ok=True)
        fsync_dir(debate_dir)
        return
    master = (debate_dir / f"v{version}" / MASTER_NAME).read_text(encoding="utf-8")
    write_atomic(target, prefixed_master(master, f"v{version}/"), durable=True)


def _fsync_tree(directory: Path) -> None:
    """Every file, then every directory, of ``directory`` on disk. The fsyncs run side by side: the
    file system commits concurrent ones together (one journal commit for many files, not one each)."""
    walked = list(os.walk(directory))
    files = [os.path.join(root, name) for root, _dirs, names in walked for name in names]
    with ThreadPoolExecutor(_FSYNC_THREADS) as pool:
        list(pool.map(_fsync_file, files))
        list(pool.map(fsync_dir, [Path(root) for root, _dirs, _names in walked]))


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _retain(debate_dir: Path, keep: int) -> list[int]:
    """Remove complete versions beyond the newest `keep`, and incomplete ones (we hold the lock)."""
    complete = complete_versions(debate_dir)
    kept = set(complete[-max(1, keep) :])
    removed = [version for version in versions(debate_dir) if version not in kept]
    for version in removed:
        shutil.rmtree(debate_dir / f"v{version}", ignore_errors=True)
    return removed


def _restore(debate_dir: Path, version: int) -> None:
    shutil.rmtree(debate_dir / f"v{version}", ignore_errors=True)
    complete = complete_versions(debate_dir)
    _point_master(debate_dir, complete[-1] if complete else None)


def recover(debate_dir: Path) -> list[int]:
    """After a crash: remove incomplete versions and point the debate master at the newest complete one.

    Returns the removed version numbers. Raises DebateBusyError if a packager is running on this debate.
    """
    if not debate_dir.is_dir():
        return []
    with debate_lock(debate_dir):
        live = live_versions(debate_dir)
        removed = [
            version
            for version in versions(debate_dir)
            if not is_complete(debate_dir, version) and version not in live
        ]
        for version in removed:
            shutil.rmtree(debate_dir / f"v{version}", ignore_errors=True)
        complete = complete_versions(debate_dir)
        newest = complete[-1] if complete else None
        if live and (debate_dir / f"v{live[-1]}" / MASTER_NAME).is_file():
            newest = live[-1]  # a live recording players were following: they go on with it
        if current_version(debate_dir) != newest or newest is None:
            _point_master(debate_dir, newest)
        return removed


def live_versions(debate_dir: Path) -> list[int]:
    """Incomplete versions a live recording owns (its job resumes or withdraws them)."""
    return [
        version
        for version in versions(debate_dir)
        if not is_complete(debate_dir, version) and (debate_dir / f"v{version}" / LIVE_MARKER).is_file()
    ]


def recover_all(media_root: Path) -> dict[str, list[int]]:
    """recover() every debate directory under the media root (e.g. at worker start); busy ones are skipped."""
    removed: dict[str, list[int]] = {}
    if not media_root.is_dir():
        return removed
    for debate_dir in sorted(p for p in media_root.iterdir() if p.is_dir()):
        with contextlib.suppress(DebateBusyError):
            if cleaned := recover(debate_dir):
                removed[debate_dir.name] = cleaned
    return removed


@contextlib.contextmanager
def live_version(debate_dir: Path) -> Iterator[tuple[int, bool]]:
    """(version, resumed): the live recording left by an earlier attempt, or a new version, the debate
    locked meanwhile (the caller finishes, withdraws or leaves it for the next attempt)."""
    with debate_lock(debate_dir):
        live = live_versions(debate_dir)
        if live:
            yield live[-1], True
            return
        version = allocate_version(debate_dir)
        version_dir = debate_dir / f"v{version}"
        version_dir.mkdir()
        write_atomic(version_dir / LIVE_MARKER, f"{version}\n", durable=True)
        yield version, False


def withdraw_live(debate_dir: Path) -> list[int]:
    """Remove the live recordings of a debate (its live job was cancelled or failed)."""
    if not debate_dir.is_dir():
        return []
    with debate_lock(debate_dir):
        removed = live_versions(debate_dir)
        for version in removed:
            _restore(debate_dir, version)
        return removed


def point_master(debate_dir: Path, version: int) -> None:
    """Let players start on v{version} (its master must exist) before it is complete."""
    _point_master(debate_dir, version)


def finish_version(debate_dir: Path, version: int, keep: int = DEFAULT_KEEP) -> None:
    """v{version} is complete (VOD or live): mark it, switch the debate master to it, apply retention."""
    version_dir = debate_dir / f"v{version}"
    (version_dir / LIVE_MARKER).unlink(missing_ok=True)
    _fsync_tree(version_dir)
    write_atomic(version_dir / COMPLETE_MARKER, f"{version}\n", durable=True)
    _point_master(debate_dir, version)
    _retain(debate_dir, keep)


def restore_version(debate_dir: Path, version: int) -> None:
    """Withdraw an unfinished v{version}; the debate master goes back to the newest complete one."""
    _restore(debate_dir, version)
