"""Writes of account security: factors, reauthentication, login failures and lockout."""


def login_failures_clear(*, account) -> None:
    """Forget the account's consecutive login failures (unlock, successful sign-in)."""
