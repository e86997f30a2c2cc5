"""The plan's catalogue: table models, the seed loader, the in-memory snapshot and the read API."""
