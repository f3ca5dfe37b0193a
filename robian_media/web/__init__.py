"""Core — the HTTP layer every feature stands on: shared state (``keys``, and the hooks features fill),
problem+json errors, edge validation and the OpenAPI document, CORS and security headers, the rate
limit, who a request speaks for (``device_auth`` and its lookups, ``listener_queries``), and the
parsing of paths, queries and cursors.

May import: ``settings`` and the other core packages (``events`` and ``jobs`` only for the types of
``keys``). Never a feature package (docs/architecture.md §6)."""
