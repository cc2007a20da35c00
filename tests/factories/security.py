"""Factories for the security section: sign-in locks."""

import factory

from security.models import AccountLockout
from security.services.lockout import MANUAL_LOCK
from tests.factories.accounts import AccountFactory


class AccountLockoutFactory(factory.django.DjangoModelFactory):
    """A locked account: AccountLockoutFactory(account=account), or
    AccountLockoutFactory(account__tenant=tenant).account for a new one."""

    class Meta:
        model = AccountLockout

    account = factory.SubFactory(AccountFactory)
    tenant = factory.SelfAttribute("account.tenant")
    locked_type = MANUAL_LOCK
    locked_until = None
