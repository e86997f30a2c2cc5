"""Fiscal quarters: codes, the fiscal calendar, which quarters exist for the API, and open/closed state."""
