"""The Django admin saves custom object types through the service (one audited command).
The native API of types is tested in test_native_types.py."""

import pytest

from customobjects.models import CustomObjectType
from portal.models import AuditEvent


@pytest.mark.django_db
def test_admin_saves_types_through_the_service(admin_client, tenant, settings):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="admin")
    from portal.models import StaffTotpDevice

    StaffTotpDevice.objects.create(user=user, name="t", confirmed=True)
    # The admin requires OTP verification; exercise the ModelAdmin methods directly.
    from django.contrib.admin.sites import site
    from django.contrib.messages.middleware import MessageMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.test import RequestFactory

    admin = site.get_model_admin(CustomObjectType)
    request = RequestFactory().post("/")
    request.user = user
    SessionMiddleware(lambda r: None).process_request(request)
    MessageMiddleware(lambda r: None).process_request(request)  # the admin's notices
    form_class = admin.get_form(request)
    form = form_class(
        data={
            "tenant": tenant.pk,
            "name": "viaadmin",
            "schema": '{"type": "object"}',
            "max_bytes": 100,
            "max_depth": 3,
            "max_records_per_account": 2,
        }
    )
    assert form.is_valid(), form.errors
    obj = form.save(commit=False)
    admin.save_model(request, obj, form, change=False)
    saved = CustomObjectType.objects.get(tenant=tenant, name="viaadmin")
    assert saved.max_bytes == 100
    assert (
        AuditEvent.objects.get(action="customobject_type.created").actor_type
        == AuditEvent.ACTOR_STAFF
    )
    bad = form_class(
        data={
            "tenant": tenant.pk,
            "name": "bad",
            "schema": '{"type": 3}',
            "max_bytes": 100,
            "max_depth": 3,
            "max_records_per_account": 2,
        }
    )
    assert not bad.is_valid()
    assert "schema" in bad.errors
