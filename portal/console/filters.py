"""Filters of the console (django-filter): the audit log. Account search uses the accounts
section's own filterset (`accounts.filters.AccountFilter`), the native API's."""

import django_filters
from django import forms

from portal import audit
from portal.models import AuditEvent


def _action_choices():
    return sorted((name, f"{name} — {label}") for name, label in audit.registered_actions().items())


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        label="Actor",
        field_name="actor_label",
        lookup_expr="icontains",
        widget=forms.TextInput(attrs={"placeholder": "staff username, credential or UID"}),
    )
    subject_uid = django_filters.CharFilter(
        label="Account UID", field_name="subject_uid", lookup_expr="exact"
    )
    action = django_filters.ChoiceFilter(
        label="Action", choices=_action_choices, empty_label="Any action"
    )
    since = django_filters.DateTimeFilter(
        label="From",
        field_name="occurred_at",
        lookup_expr="gte",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = django_filters.DateTimeFilter(
        label="Until",
        field_name="occurred_at",
        lookup_expr="lte",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    class Meta:
        model = AuditEvent
        fields = ["actor", "subject_uid", "action", "since", "until"]
