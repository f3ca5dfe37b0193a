"""``/api/docs``: a current Swagger UI (vendored under ``static/vendor/swagger-ui-<version>/`` with its
licence) showing our spec only.

aiohttp-apispec's own page ships Swagger UI 4.1.0, which reads ``?url=``/``?configUrl=`` from the page's
address (CVE-2018-25031): a link could show an attacker's spec on our origin, whose "Try it out" sends
the admin token wherever that spec points. This page has query configuration off, and a CSP that lets
scripts come only from us and requests go only to our own origin.
"""

from __future__ import annotations

from aiohttp import web

SWAGGER_UI = "/static/vendor/swagger-ui-5.35.0"
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>robian-media API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec="/api/docs/swagger.json"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
<script src="/static/api-docs/init.js"></script>
</body>
</html>
"""
# Swagger UI sets inline styles; nothing else is inline, and "Try it out" may only call this origin
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)


async def api_docs_page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html", headers={"Cache-Control": "no-cache"})
