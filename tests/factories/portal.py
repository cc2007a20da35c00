"""Factories for the core's tenants and API credentials."""

import uuid

import factory

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
