"""Live recording: a sitting's source segments in, a Low-Latency HLS version out, finished as VOD.

- ``recorder.py``: ``record_live()`` and ``LiveRecorder``, the API (the live counterpart of ``package()``).
- ``rendition.py``: the version's rungs, runs and gaps; ``rung.py``: fragments cut into parts and segments;
  ``fragments.py``: publishing them as FFmpeg gives them; ``ts_rung.py``: the TS rung, its twin remuxed.
- ``encoder.py``: one FFmpeg run; ``chapters.py``: speakers placed on segment boundaries.
- ``playlist.py`` writes live playlists; ``reload.py`` reads them for blocking reloads and delta updates.
- ``resume.py``: a recording an interrupted attempt left, rebuilt from its playlists.

Imports ``packager`` modules only.
"""
