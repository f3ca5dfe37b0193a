"""Core — live events (docs/architecture.md, "Events"): the bus (in-process or Redis streams across
nodes), the one vocabulary of event types every publisher uses, node-local fan-out, SSE and WebSocket.

May import: ``web``, ``cache``, ``ops``, ``settings``. Never a feature package."""
