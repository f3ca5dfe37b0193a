"""Feature — getting a sitting in: the sources (``ingest.sources``: yt-dlp, local files, the Assemblée
nationale portal, compte rendu and acteurs, the fetch policy), the ingest job (fetch → probe → package
→ publish) and its routes, the ``ingest`` command and the demo.

May import: core packages (``jobs`` above all), ``packager``. Its kind of job (``task.INGEST``) is
handed to the queue by the composition root (``robian_media.app``/``cli``), never imported by ``jobs``."""
