"""wlbtrack: progress tracking for Setagaya Ward's work-life-balance plan."""

__version__ = "0.1.0"
