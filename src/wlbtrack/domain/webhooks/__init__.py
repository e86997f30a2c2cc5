"""Signed webhooks (Standard Webhooks): receivers, the transactional outbox, its deliverer and reminders."""
