"""The account search filters, shared by the native API and the console.

Every filter is answered from an index on PostgreSQL: `search` from the trigram index on
`search_text`, `email` from the unique index on (tenant, lower(email)), `phone` and
`username` from their unique indexes, `uid` from (tenant, uid), `created_*` from
(tenant, created).
"""

import django_filters
from django.db.models import QuerySet
from django.db.models.functions import Lower

from accounts.models import Account, AccountEmail
from portal.lrapi.errors import LRError

SEARCH_MAX_LENGTH = 200


class AccountFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", max_length=SEARCH_MAX_LENGTH,
        help_text="Substring of a name, email, username, phone or UID (case-insensitive).",
    )
    email = django_filters.CharFilter(method="filter_email", help_text="An email of the account (any case).")
    phone = django_filters.CharFilter(method="filter_phone", help_text="The phone id (E.164; a space is read as '+').")
    username = django_filters.CharFilter(method="filter_username", help_text="The username (any case).")
    uid = django_filters.CharFilter(field_name="uid", help_text="The UID.")
    blocked = django_filters.BooleanFilter(method="filter_blocked", help_text="true: blocked accounts only.")
    locked = django_filters.BooleanFilter(field_name="is_login_locked", help_text="true: login-locked accounts only.")
    verified = django_filters.BooleanFilter(field_name="email_verified", help_text="Email verified or not.")
    created_after = django_filters.IsoDateTimeFilter(field_name="created", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created", lookup_expr="lt")

    class Meta:
        model = Account
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, tenant=None, **kwargs):
        self.tenant = tenant
        super().__init__(data, queryset=queryset, **kwargs)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        term = value.strip().lower()
        if not term:
            return queryset
        return queryset.filter(search_text__contains=term)

    def filter_email(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip().replace(" ", "+").lower()
        ids = (
            AccountEmail.objects.annotate(v=Lower("value"))
            .filter(tenant=self.tenant, v=value)
            .values_list("account_id", flat=True)
        )
        return queryset.filter(pk__in=list(ids))

    def filter_phone(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        from accounts.profile_fields import clean_phone

        try:
            phone = clean_phone(value.replace(" ", "+"))
        except LRError:
            return queryset.none()
        return queryset.filter(phone_id=phone)

    def filter_username(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.annotate(username_lower=Lower("username")).filter(username_lower=value.strip().lower())

    def filter_blocked(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(is_active=not value)
