"""Shared building blocks: column types, errors, pagination."""
