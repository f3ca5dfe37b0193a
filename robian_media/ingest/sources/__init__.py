"""Where debates come from: yt-dlp in a subprocess, local files, the Assemblée nationale adapters
(portal ``data.nvs``, compte rendu, acteurs), and the policy every fetch obeys (SSRF guard, allowlist,
circuit breakers).

May import: core packages and ``ingest.chapter_input``."""
