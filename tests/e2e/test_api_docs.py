"""``/api/docs`` in a real browser: a current Swagger UI that shows our spec only (issue #22, item 7).

aiohttp-apispec's page (Swagger UI 4.1.0) honoured ``?url=``/``?configUrl=`` (CVE-2018-25031): a link
showed an attacker's spec on our origin, and "Try it out" could send the admin token to its host."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from robian_media.app import create_app
from robian_media.settings import Settings
from tests.e2e.conftest import E2E_DIR

EVIL_SPEC = {
    "swagger": "2.0",
    "info": {"title": "Evil API", "version": "1"},
    "host": "evil.test",
    "paths": {},
}


async def test_api_docs_ignore_an_attackers_spec_in_the_query(
    browser_tools: None,
    aiohttp_server: Callable[..., Any],
    make_settings: Callable[..., Settings],
) -> None:
    asked: list[str] = []

    async def evil(request: web.Request) -> web.Response:
        asked.append(request.path)
        body = EVIL_SPEC if request.path == "/spec.json" else {"url": f"http://{request.host}/spec.json"}
        return web.json_response(body, headers={"Access-Control-Allow-Origin": "*"})

    evil_app = web.Application()
    evil_app.router.add_get("/{name}", evil)
    attacker = await aiohttp_server(evil_app)
    server = await aiohttp_server(create_app(make_settings()))

    url = server.make_url("/api/docs").with_query(
        url=str(attacker.make_url("/spec.json")), configUrl=str(attacker.make_url("/config.json"))
    )
    process = await asyncio.create_subprocess_exec(
        "node", str(E2E_DIR / "api-docs.mjs"), str(url), cwd=E2E_DIR, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode == 0
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["title"].startswith("robian-media API")
    assert seen["operations"] > 20
    assert asked == []  # the page never fetched the attacker's spec or config
    assert not [u for u in seen["requested"] if not u.startswith(str(server.make_url("/")))]
    # no script error: the CSP allows what Swagger UI needs
    assert seen["problems"] == []
