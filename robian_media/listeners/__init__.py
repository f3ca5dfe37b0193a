"""Feature — the listener's own things: anonymous devices and pairing, favorites, collections, playback
positions (``positions``: where a listener stopped, never a job's progress), listening stats, and the events
on an owner's private channel (published through ``events.vocabulary``). Its AppKeys are in
``listeners.keys``; looking a device token up is the core's (``web.device_auth``).

May import: core packages and ``catalog`` (debates as lists show them)."""
