"""Core — a debate's media in its store and on the wire: where published media lives (``store.py``: the
media root, or an S3 bucket through ``s3_store.py``), public URLs, ``/hls/`` served without nginx (same
headers; a file not written yet is waited for only through the ``web.keys.WAIT_FOR_MEDIA`` hook a
feature fills), the rendered nginx origin/edge configuration, the edge-cache metrics, which FFmpeg to run.

May import: ``packager``, ``settings`` and the other core packages. Never a feature package."""
