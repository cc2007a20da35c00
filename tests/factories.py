"""Factories shared by every section's tests. Section-specific factories live beside
their tests (tests/<app>/factories.py) and build on these."""

import uuid

import factory

from accounts.models import Account, AccountEmail
from portal.models import ApiCredential, Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")


class ApiCredentialFactory(factory.django.DjangoModelFactory):
    """`credential.raw` holds the plain secret for the test to send."""

    class Meta:
        model = ApiCredential

    tenant = factory.SubFactory(TenantFactory)
    label = "test"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = model_class(*args, **kwargs)
        obj.raw = str(uuid.uuid4())
        obj.set_secret(obj.raw)
        obj.save()
        return obj


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
