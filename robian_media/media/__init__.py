"""Core — a debate's media on disk and on the wire: public URLs, ``/hls/`` served without nginx (same
headers; a file not written yet is waited for only through the ``web.keys.WAIT_FOR_MEDIA`` hook a
feature fills), the rendered nginx origin/edge configuration, the edge-cache metrics, which FFmpeg to run.

May import: ``packager``, ``settings`` and the other core packages. Never a feature package."""
