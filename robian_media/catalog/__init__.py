"""Feature — what listeners browse: debates, their chapters and stream, speakers and interventions, the
programme (and the agenda import), French full-text search, downloads. Handlers, their SQL (``*_queries``)
and response models side by side.

May import: core packages, ``packager``. Not another feature."""
