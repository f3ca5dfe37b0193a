"""Core — PostgreSQL: the pool (embedded PostgreSQL when no URL is set), numbered migrations, what an
outage looks like, and text PostgreSQL can store. Feature SQL lives beside its feature (``*_queries``).

May import: ``settings``. Nothing else of ``robian_media``."""
