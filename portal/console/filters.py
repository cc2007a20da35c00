"""Filters of the console (django-filter): the audit log, and account search on the accounts
section's own filterset."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef

from accounts.filters import AccountFilter
from portal import audit
from portal.models import AuditEvent


def _action_choices():
    return sorted((name, f"{name} — {label}") for name, label in audit.registered_actions().items())


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        label="Actor", field_name="actor_label", lookup_expr="icontains",
        widget=forms.TextInput(attrs={"placeholder": "staff username, credential or UID"}),
    )
    subject_uid = django_filters.CharFilter(label="Account UID", field_name="subject_uid", lookup_expr="exact")
    action = django_filters.ChoiceFilter(label="Action", choices=_action_choices, empty_label="Any action")
    since = django_filters.DateTimeFilter(
        label="From", field_name="occurred_at", lookup_expr="gte",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = django_filters.DateTimeFilter(
        label="Until", field_name="occurred_at", lookup_expr="lte",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    class Meta:
        model = AuditEvent
        fields = ["actor", "subject_uid", "action", "since", "until"]


class ConsoleAccountFilter(AccountFilter):
    """The native API's account filterset, plus what the console adds: has-MFA and role."""

    has_mfa = django_filters.BooleanFilter(method="filter_has_mfa", help_text="Has a second factor.")
    role = django_filters.CharFilter(method="filter_role", help_text="Holds this role directly.")

    def filter_has_mfa(self, queryset, name, value):
        if value is None:
            return queryset
        from security.models import OtpFactor, PushDevice, SecurityAnswer, TotpFactor

        ref = OuterRef("pk")
        has = (
            Exists(TotpFactor.objects.filter(account=ref, confirmed=True))
            | Exists(OtpFactor.objects.filter(account=ref, confirmed=True))
            | Exists(SecurityAnswer.objects.filter(account=ref))
            | Exists(PushDevice.objects.filter(account=ref))
        )
        return queryset.filter(has if value else ~has)

    def filter_role(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        from roles.models import AccountRole

        return queryset.filter(Exists(AccountRole.objects.filter(account=OuterRef("pk"), role__name=value)))
