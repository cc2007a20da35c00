"""Periodic jobs of the session section."""
