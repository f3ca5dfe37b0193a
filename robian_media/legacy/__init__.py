"""Feature — the routes of the existing mobile client, in the shapes of its RobianAPI backend
(``/api/debats…``, ``/api/programme``, ``/api/extraction…``), answered by the catalog and ingest.

May import: core packages, ``catalog``, ``ingest``."""
