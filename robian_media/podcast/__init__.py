"""Feature — podcast apps' view of the catalog (DESIGN §9): RSS feeds of debates and of a speaker's
interventions, Podcasting 2.0 JSON chapters, and clips of any range or intervention as ``.m4a``
(cut and kept by ``media.clips``).

May import: core packages, ``packager``, ``catalog`` (its debate rows, chapters and not-packaged
hints: the feeds list what the catalog lists)."""
