"""Filters of the console (django-filter): the audit log. Account search uses the accounts
section's own filterset (`accounts.filters.AccountFilter`), the native API's."""

import django_filters
from django import forms

from portal import audit
from portal.console import event_names
from portal.models import AuditEvent


def _action_choices():
    """Every registered event type by its human name (the code beside it, for the precise)."""
    return sorted(
        ((name, f"{event_names.event_name(name)} ({name})") for name in audit.registered_actions()),
        key=lambda choice: choice[1].lower(),
    )


def _kind_choices():
    return [(key, label) for key, label, _prefixes in event_names.KINDS] + [("other", "Other")]


class AuditEventFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        label="Kind", choices=_kind_choices, empty_label="Any kind", method="filter_kind"
    )
    actor = django_filters.CharFilter(
        label="Actor",
        field_name="actor_label",
        lookup_expr="icontains",
        widget=forms.TextInput(attrs={"placeholder": "staff username, API key label or UID"}),
    )
    actor_type = django_filters.ChoiceFilter(
        label="Actor type",
        field_name="actor_type",
        choices=[
            (AuditEvent.ACTOR_STAFF, "Staff"),
            (AuditEvent.ACTOR_CREDENTIAL, "API key"),
            (AuditEvent.ACTOR_ACCOUNT, "Account holder"),
            (AuditEvent.ACTOR_SYSTEM, "System"),
        ],
        empty_label="Anyone",
    )
    subject_uid = django_filters.CharFilter(
        label="Account UID", field_name="subject_uid", lookup_expr="exact"
    )
    action = django_filters.ChoiceFilter(
        label="Event", choices=_action_choices, empty_label="Any event"
    )
    since = django_filters.DateTimeFilter(
        label="From (UTC)",
        field_name="occurred_at",
        lookup_expr="gte",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Date and time in UTC, YYYY-MM-DD HH:MM.",
    )
    until = django_filters.DateTimeFilter(
        label="Until (UTC)",
        field_name="occurred_at",
        lookup_expr="lte",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Date and time in UTC, YYYY-MM-DD HH:MM.",
    )

    class Meta:
        model = AuditEvent
        fields = ["kind", "actor", "actor_type", "subject_uid", "action", "since", "until"]

    def filter_kind(self, queryset, name, value):
        if value == "other":
            known = {a for key, _l, _p in event_names.KINDS for a in event_names.kind_actions(key)}
            return queryset.exclude(action__in=sorted(known))
        return queryset.filter(action__in=event_names.kind_actions(value))
