"""Device tokens never reach nginx's access logs (issue #22, item 3): EventSource and WebSocket clients
must send theirs as ``?access_token=``, which the request line used to carry into both logs."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.edge.hls_media import HlsMedia

SECRET = "devtok-5ecret-0123456789"


async def test_access_tokens_are_masked_in_the_origin_and_edge_logs(
    hls_media: HlsMedia, fake_api: Any, start_nginx: Any, http: aiohttp.ClientSession
) -> None:
    nginx = start_nginx(hls_media, fake_api[1].port, edge=True)
    queries = [
        f"channels=jobs&access_token={SECRET}",
        f"access_token={SECRET}&channels=debates",
        f"ACCESS_TOKEN={SECRET}",
        f"access%5Ftoken={SECRET}&channels=jobs",  # the API reads this spelling as access_token too
        f"access_token={SECRET}&access_token={SECRET}",
    ]
    for base in (nginx.origin, nginx.edge):
        for query in queries:
            async with http.get(f"{base}/api/v1/ping?{query}") as response:
                assert response.status == 200
    pings = [
        line
        for name, count in (("access.log", 2), ("edge-access.log", 1))  # edge → origin too
        for line in await nginx.logged(lambda line: "/api/v1/ping" in line, count * len(queries), name=name)
    ]
    assert len(pings) == 3 * len(queries)
    lines = nginx.access_log() + nginx.access_log("edge-access.log")
    assert not [line for line in lines if SECRET in line]
    # what is kept says what was asked
    assert any('"GET /api/v1/ping?channels=jobs&access_token=*** HTTP/1.1"' in line for line in lines)
    assert any('"GET /api/v1/ping?access_token=***&channels=debates HTTP/1.1"' in line for line in lines)
    # an ordinary query is logged as it came
    async with http.get(f"{nginx.origin}/api/v1/ping?channels=jobs&limit=3") as response:
        assert response.status == 200
    assert await nginx.logged(lambda line: '"GET /api/v1/ping?channels=jobs&limit=3 HTTP/1.1" 200' in line, 1)
