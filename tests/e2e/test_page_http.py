"""The page's files over HTTP: what is served, with which policy, and that the vendored hls.js is
exactly the npm release pinned in package-lock.json."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import E2E_DIR

VENDORED = "vendor/hls.js-1.7.4/hls.light.min.js"


async def test_the_page_and_its_files_are_served_with_a_page_policy(client: Any) -> None:
    page = await client.get("/")
    assert page.status == 200
    assert page.content_type == "text/html"
    html = await page.text()
    for src in ("/static/app.js", "/static/style.css", f"/static/{VENDORED}"):
        assert src in html
        asset = await client.get(src)
        assert asset.status == 200, src
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert "media-src 'self' http://media.test blob:" in csp  # the public media origin, and MSE
    vendored = await client.get(f"/static/{VENDORED}")
    assert "immutable" in vendored.headers["Cache-Control"]
    assert vendored.content_type == "text/javascript"


async def test_only_the_page_files_are_reachable(client: Any) -> None:
    for path in (
        "/static/../settings.py",
        "/static/%2e%2e/settings.py",
        "/static/index.html.bak",
        "/static/vendor/hls.js-1.7.4/LICENSE",  # not a servable type
        "/static/nothing.js",
    ):
        response = await client.get(path)
        assert response.status == 404, path


async def test_the_api_keeps_its_strict_policy(client: Any) -> None:
    response = await client.get("/api/v1/debates")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_vendored_hls_js_is_the_pinned_npm_release() -> None:
    from robian_media.web.page import STATIC_ROOT

    lock = json.loads((E2E_DIR / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/hls.js"]["version"] == "1.7.4"
    npm_copy = E2E_DIR / "node_modules" / "hls.js" / "dist" / "hls.light.min.js"
    assert (STATIC_ROOT / VENDORED).read_bytes() == npm_copy.read_bytes(), "run make vendor-hls"
