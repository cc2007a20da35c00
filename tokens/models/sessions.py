"""Access and refresh tokens (the Account Session section)."""
