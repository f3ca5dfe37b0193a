"""Where debates come from: yt-dlp in a subprocess, local files, the Assemblée nationale adapters
(portal ``data.nvs``, compte rendu, acteurs), and the policy every fetch obeys (SSRF guard, allowlist;
the per-host circuit breakers are the worker's, ``jobs.circuit_breaker``).

May import: core packages and ``ingest.chapter_input``."""
