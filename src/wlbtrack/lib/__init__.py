"""Shared building blocks every domain uses; nothing here imports a domain."""
