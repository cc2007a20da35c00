"""Delivery of outbox messages (email and SMS)."""
