"""Core — the HTTP layer every feature stands on: shared state (``keys``), problem+json errors, edge
validation and the OpenAPI document, CORS and security headers, the rate limit, who a request speaks
for, and the parsing of paths, queries and cursors.

May import: ``db``, ``cache``, ``ops``, ``settings``. Never a feature package (docs/architecture.md)."""
