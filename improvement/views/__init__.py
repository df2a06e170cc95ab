"""Pages of the tracker, one module per area; each view checks permissions through access.py."""
