"""Factories for the base app's accounts."""

import factory

from accounts.models import Account, AccountEmail
from tests.factories.portal import TenantFactory


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        skip_postgeneration_save = True  # the email hook saves what it changes itself

    tenant = factory.SubFactory(TenantFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @factory.post_generation
    def email(obj, create, extracted, **kwargs):
        """AccountFactory(email="a@b.com") adds a primary email; email=False adds none."""
        if not create:
            return
        if extracted is not False:
            value = extracted or f"{obj.uid[:12]}@example.com"
            AccountEmail.objects.create(tenant=obj.tenant, account=obj, type="Primary", value=value)
        from accounts.services import search_text_refresh

        search_text_refresh(account=obj)  # the search column services keep current
