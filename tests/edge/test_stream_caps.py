"""nginx caps open event streams per client address (issue #22, item 6), before they reach the API."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.edge.hls_media import HlsMedia
from tests.events.clients import SseStream
from tests.events.test_stream_caps import UPGRADE, streams


async def test_nginx_caps_streams_per_address(
    hls_media: HlsMedia, fake_api: Any, start_nginx: Any, http: aiohttp.ClientSession
) -> None:
    nginx = start_nginx(hls_media, fake_api[1].port, events_listeners_per_address=2)
    async with streams() as opened:
        for _ in range(2):
            response = await http.get(f"{nginx.origin}/api/v1/events?channels=jobs")
            assert response.status == 200
            opened.append(SseStream(response))
        refused = await http.get(f"{nginx.origin}/api/v1/events?channels=jobs")
        assert refused.status == 429 and (await refused.json(content_type=None))["status"] == 429
        upgrade = await http.get(f"{nginx.origin}/ws", headers=UPGRADE)
        assert upgrade.status == 429
