"""Quarterly status reports, indicators and indicator values, with revision history, and the batch."""
