"""The tenant settings registry (portal/tenant_settings.py) and the service that judges a
change by it (portal.services.tenant_update_settings): every rule in one place."""

import pytest

from accounts import password_policy
from portal import services, tenant_settings
from portal.audit import Actor
from portal.errors import InvalidInput
from portal.models import TENANT_SETTING_DEFAULTS, AuditEvent, Tenant
from portal.tenant_commands import TenantSettingsChange

SYSTEM = Actor.system("test")


def change(tenant, changes, **kwargs):
    return services.tenant_update_settings(
        TenantSettingsChange(changes=changes, **kwargs), tenant=tenant, actor=SYSTEM
    )


def stored(tenant) -> dict:
    return Tenant.objects.get(pk=tenant.pk).settings


# --- the registry ---------------------------------------------------------------------------


def test_the_model_defaults_are_the_registrys():
    assert TENANT_SETTING_DEFAULTS == tenant_settings.DEFAULTS
    assert list(TENANT_SETTING_DEFAULTS) == [s.name for s in tenant_settings.SETTINGS]


def test_every_setting_has_a_label_help_a_group_and_a_default_within_its_rules():
    for setting in tenant_settings.SETTINGS:
        assert setting.label and setting.help.endswith("."), setting.name
        assert setting.group in tenant_settings.GROUP_ORDER
        assert setting.checked(setting.default) == (setting.default, None), setting.name
    shown = {group for group, settings in tenant_settings.grouped() if settings}
    assert shown == set(tenant_settings.Group)


def test_the_password_rules_match_the_password_policy():
    classes = tenant_settings.BY_NAME["password_required_character_classes"].choices
    assert [value for value, _ in classes] == list(password_policy.CHARACTER_CLASSES)
    for name in ("password_min_length", "password_max_length"):
        setting = tenant_settings.BY_NAME[name]
        assert (setting.low, setting.high) == (
            password_policy.LENGTH_FLOOR,
            password_policy.LENGTH_CEILING,
        )


@pytest.mark.parametrize(
    ("name", "default", "low", "high"),
    [
        ("retention_events_days", 365, 1, 3650),
        ("retention_signin_events_days", 90, 1, 3650),
        ("retention_webhook_deliveries_days", 30, 1, 365),
        ("retention_job_reports_days", 30, 1, 365),
    ],
)
def test_retention_settings_with_their_defaults_and_bounds(tenant, name, default, low, high):
    setting = tenant_settings.BY_NAME[name]
    assert (setting.default, setting.low, setting.high) == (default, low, high)
    assert setting.group is tenant_settings.Group.RETENTION
    assert tenant.setting(name) == default
    for refused in (low - 1, high + 1, "30", 2.5, True):
        with pytest.raises(InvalidInput) as caught:
            change(tenant, {name: refused})
        assert [e.field for e in caught.value.field_errors] == [name]
    change(tenant, {name: high})
    assert Tenant.objects.get(pk=tenant.pk).setting(name) == high


# --- the service ----------------------------------------------------------------------------


def test_every_problem_is_reported_together_and_nothing_changes(tenant):
    tenant.settings = {"lockout_threshold": 4}
    tenant.save()
    with pytest.raises(InvalidInput) as caught:
        change(
            tenant,
            {
                "no_such_setting": 1,
                "lockout_threshold": "5",
                "request_signing": "never",
                "password_common_check": "yes",
                "password_required_character_classes": ["emoji"],
                "retention_job_reports_days": 0,
                "sms_otp_length": 7,  # valid, but the change is all or nothing
            },
        )
    found = {(e.field, e.code) for e in caught.value.field_errors}
    assert found == {
        ("no_such_setting", "unknown"),
        ("lockout_threshold", "invalid"),
        ("request_signing", "invalid"),
        ("password_common_check", "invalid"),
        ("password_required_character_classes", "invalid"),
        ("retention_job_reports_days", "invalid"),
    }
    assert stored(tenant) == {"lockout_threshold": 4}
    assert not AuditEvent.objects.filter(action="tenant.updated").exists()


def test_the_minimum_password_length_may_not_pass_the_maximum(tenant):
    with pytest.raises(InvalidInput) as caught:
        change(tenant, {"password_min_length": 40})  # the stored maximum is 32
    assert [(e.field, e.code) for e in caught.value.field_errors] == [
        ("password_max_length", "invalid")
    ]
    change(tenant, {"password_min_length": 40, "password_max_length": 64})
    with pytest.raises(InvalidInput):
        change(tenant, {"password_max_length": 39})
    assert stored(tenant) == {"password_min_length": 40, "password_max_length": 64}


def test_null_puts_a_setting_back_to_its_default_and_the_diff_says_so(tenant):
    tenant.settings = {"sms_otp_length": 8, "lockout_threshold": 3}
    tenant.save()
    change(tenant, {"sms_otp_length": None, "lockout_minutes": 30}, reason="tidy")
    assert stored(tenant) == {"lockout_threshold": 3, "lockout_minutes": 30}
    event = AuditEvent.objects.get(action="tenant.updated")
    assert event.diff == {"sms_otp_length": [8, None], "lockout_minutes": [None, 30]}
    assert event.reason == "tidy"


def test_character_classes_are_stored_in_one_order(tenant):
    change(tenant, {"password_required_character_classes": ["special", "lowercase"]})
    assert stored(tenant)["password_required_character_classes"] == ["lowercase", "special"]


def test_a_change_that_changes_no_value_records_nothing(tenant):
    change(tenant, {"lockout_threshold": 5, "sms_otp_length": None})  # both the defaults
    assert stored(tenant) == {}
    assert not AuditEvent.objects.exists()


def test_a_stale_expected_version_is_refused_and_changes_nothing(tenant):
    version = tenant_settings.version_of(tenant.settings)
    change(tenant, {"lockout_threshold": 3}, expected_version=version)
    with pytest.raises(tenant_settings.TenantSettingsVersionStale):
        change(tenant, {"lockout_threshold": 9}, expected_version=version)
    assert stored(tenant) == {"lockout_threshold": 3}
    assert AuditEvent.objects.filter(action="tenant.updated").count() == 1
    current = tenant_settings.version_of(stored(tenant))
    assert current != version
    change(tenant, {"lockout_threshold": 9}, expected_version=current)
    assert stored(tenant) == {"lockout_threshold": 9}
