"""Core — a debate's media on disk and on the wire: public URLs, ``/hls/`` served without nginx (same
headers), the rendered nginx origin/edge configuration, the edge-cache metrics, which FFmpeg to run.

May import: ``packager``, ``settings`` and the other core packages. Never a feature package."""
