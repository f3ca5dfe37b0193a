"""Media-store benchmark (not a test): what publishing to an S3 store adds to packaging, in one run.

    python bench/store_bench.py [--minutes 10] [--ladder speech]

Synthesises speech (as packager_bench.py), packages it as a debate's version (the packager writes
the file store's layout in place: publishing costs nothing more there), then publishes that version
to a real S3 API on loopback (moto's server in a process of its own) through the s3 store: every
object in the layout's order, the large download.m4a in parts, then the top master. Prints the
packaging time, the publish time, their ratio (goal: ≤ 10 %), and a local copy of the same files
for scale. moto is a Python server: MinIO or S3 take objects faster, so the ratio is an upper bound.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from packager_bench import synthesise

from packager.ffmpeg import default_ffmpeg
from packager.vod import package
from robian_media.media.store import create_media_store
from robian_media.settings import Settings
from tests.services import free_port, wait_for_port

DEBATE = "5e7b0a2c-1111-4c3b-9d2e-0123456789ab"


def start_moto(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, timeout=30)
    request = urllib.request.Request(f"http://127.0.0.1:{port}/media-bench", method="PUT")
    urllib.request.urlopen(request, timeout=10).close()
    return proc


async def publish(port: int, version_dir: Path, version: int) -> float:
    settings = Settings(
        _env_file=None,
        media_store="s3://media-bench/hls",
        s3_endpoint_url=f"http://127.0.0.1:{port}",
        s3_access_key_id="bench",
        s3_secret_access_key="bench-secret",
    )
    store = create_media_store(settings)
    started = time.monotonic()
    await store.publish(DEBATE, version, version_dir)
    elapsed = time.monotonic() - started
    await store.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--ladder", default="speech")
    args = parser.parse_args()
    ffmpeg = default_ffmpeg()
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        work = Path(tmp)
        source = synthesise(work, ffmpeg, args.minutes)
        started = time.monotonic()
        result = asyncio.run(package(source, work / DEBATE, ladder=args.ladder, ffmpeg=ffmpeg))
        packaging = time.monotonic() - started
        files = [p for p in result.version_dir.rglob("*") if p.is_file() and not p.name.startswith(".")]
        size = sum(p.stat().st_size for p in files)

        started = time.monotonic()
        shutil.copytree(result.version_dir, work / "copy")
        copy = time.monotonic() - started

        port = free_port()
        moto = start_moto(port)
        try:
            upload = asyncio.run(publish(port, result.version_dir, result.version))
        finally:
            moto.terminate()
            moto.wait(timeout=30)

    print(f"sitting: {args.minutes:g} min, ladder {args.ladder}: {len(files)} objects, {size / 1e6:.1f} MB")
    print(f"packaging (file store: published in place)   {packaging:8.2f} s")
    print(f"publishing to the s3 store (moto, loopback)  {upload:8.2f} s  ({size / 1e6 / upload:.0f} MB/s)")
    print(f"local copy of the same files, for scale      {copy:8.2f} s")
    print(f"publish / packaging: {upload / packaging:.1%} (goal ≤ 10 %)")


if __name__ == "__main__":
    main()
