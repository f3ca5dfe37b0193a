"""Feature — the listener's own things: anonymous devices and pairing, favorites, collections, playback
positions (``positions``: where a listener stopped, never a job's progress), listening stats, and the events
on an owner's private channel.

May import: core packages and ``catalog`` (debates as lists show them)."""
