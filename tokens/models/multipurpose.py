"""Multipurpose email tokens, SMS OTPs, and the outbox that delivers them."""
