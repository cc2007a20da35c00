"""Factories, one module per section (tests/factories/<section>.py); every one is named
here so that `from tests.factories import AccountFactory` works wherever a test is."""

from tests.factories.accounts import AccountFactory
from tests.factories.portal import ApiCredentialFactory, TenantFactory
from tests.factories.security import AccountLockoutFactory

__all__ = ["AccountFactory", "AccountLockoutFactory", "ApiCredentialFactory", "TenantFactory"]
