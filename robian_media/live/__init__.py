"""Live sittings: a worker-owned job turning a live HLS source into our live ladder, then a VOD debate."""
