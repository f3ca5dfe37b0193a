"""Driving a live sitting through the API in tests."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient

from tests.ingest.conftest import AUTH


def hls_path(url: str) -> str:
    """A public media URL as a path on the test server."""
    return urlsplit(url).path


async def start_live(client: TestClient[Any, Any], source_url: str, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/live", json={"source_url": source_url, **fields}, headers=AUTH)
    assert response.status == 202, await response.text()
    return dict(await response.json())


async def wait_stream(client: TestClient[Any, Any], debate_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """The stream once the live job has published its first parts."""
    async with asyncio.timeout(timeout):
        while True:
            response = await client.get(f"/api/v1/debates/{debate_id}/stream")
            if response.status == 200:
                return dict(await response.json())
            await asyncio.sleep(0.2)


async def text(client: TestClient[Any, Any], path: str, **params: str) -> str:
    response = await client.get(path, params=params)
    assert response.status == 200, f"{path}: {response.status} {await response.text()}"
    return await response.text()


async def rung_paths(client: TestClient[Any, Any], debate_id: str) -> list[str]:
    """The media playlists the debate's master lists, as paths."""
    master = await text(client, f"/hls/{debate_id}/master.m3u8")
    base = f"/hls/{debate_id}/"
    return [base + line for line in master.splitlines() if line and not line.startswith("#")]


async def wait_playlist(
    client: TestClient[Any, Any], path: str, check: Any, timeout: float = 30.0
) -> str:  # fmt: skip
    async with asyncio.timeout(timeout):
        while True:
            body = await text(client, path)
            if check(body):
                return body
            await asyncio.sleep(0.2)


async def stop_live(client: TestClient[Any, Any], debate_id: str) -> dict[str, Any]:
    response = await client.post(f"/api/v1/live/{debate_id}/stop", headers=AUTH)
    assert response.status == 202, await response.text()
    return dict(await response.json())


def _date(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def reaches(chapter_id: str) -> Any:
    """A playlist check: the media published runs past the start of DATERANGE ``chapter_id``."""

    def check(body: str) -> bool:
        found = re.search(rf'ID="{chapter_id}",[^\n]*START-DATE="([^"]+)"', body)
        dates = re.findall(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)\n#EXTINF:([\d.]+)", body)
        if not found or not dates:
            return False
        last_date, last_duration = dates[-1]
        return _date(last_date) + timedelta(seconds=float(last_duration)) > _date(found.group(1))

    return check
