"""Core — the response cache: a TTL per namespace in Redis (an in-process LRU without it), cached
JSON bodies with their ETag, and what code calls after a commit to invalidate them.

May import: ``settings`` and the other core packages. Never a feature package."""
