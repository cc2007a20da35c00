"""The account search filters, shared by the native API and the console.

Every filter is answered from an index on PostgreSQL: `search` from the trigram index on
`search_text`, `email` from the unique index on (tenant, lower(email)), `email_prefix`
from the (tenant, lower(email) text_pattern_ops) index (migration 0005), `phone` and
`username` from their unique indexes, `uid` from (tenant, uid), `created_*` from
(tenant, created). `has_mfa`, `locked` and `role` are answered by the sections that keep
second factors, sign-in locks and roles, which register the matching account ids
(accounts.extensions).
"""

import django_filters
from django import forms
from django.db.models import QuerySet
from django.db.models.functions import Lower

from accounts import text_search
from accounts.errors import PhoneInvalid
from accounts.extensions import search_filter
from accounts.models import Account, AccountEmail
from accounts.profile_fields import clean_phone
from portal.errors import FieldError, InvalidInput
from portal.spellings import FALSE_VALUES, TRUE_VALUES

SEARCH_MAX_LENGTH = 200
# Up to this many email-prefix matches are looked up first and then listed by primary key.
PREFIX_ID_LIST_MAX = 1000


class StrictBooleanField(forms.Field):
    """true or false (the API's spellings); any other value, an empty one included, is an
    error rather than "no filter", so a typo never widens a search."""

    widget = forms.TextInput

    def to_python(self, value):
        if value is None or isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE_VALUES:
            return True
        if text and text in FALSE_VALUES:
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class AccountFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        help_text="Substring of a name, email, username, phone or UID (case-insensitive).",
    )
    email = django_filters.CharFilter(
        method="filter_email", help_text="An email of the account (any case)."
    )
    email_prefix = django_filters.CharFilter(
        method="filter_email_prefix",
        max_length=254,
        help_text="The start of an email of the account (any case), e.g. 'jane.d' or 'jane@exa'.",
    )
    phone = django_filters.CharFilter(
        method="filter_phone", help_text="The phone id (E.164; a space is read as '+')."
    )
    username = django_filters.CharFilter(
        method="filter_username", help_text="The username (any case)."
    )
    uid = django_filters.CharFilter(method="filter_uid", help_text="The UID.")
    blocked = StrictBooleanFilter(method="filter_blocked", help_text="true: blocked accounts only.")
    locked = StrictBooleanFilter(
        method="filter_by_section", help_text="true: login-locked accounts only."
    )
    verified = StrictBooleanFilter(field_name="email_verified", help_text="Email verified or not.")
    has_mfa = StrictBooleanFilter(
        method="filter_by_section", help_text="Has a second factor or not."
    )
    role = django_filters.CharFilter(
        method="filter_by_section", max_length=100, help_text="Holds this role directly."
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="created", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created", lookup_expr="lt")

    class Meta:
        model = Account
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, tenant=None, **kwargs):
        """`tenant` scopes the identifier look-ups; without it they run on `queryset`."""
        self.tenant = tenant
        if data is not None:
            # Only the filters the request names are built: FilterSet deep-copies every
            # filter and builds a form field for each, which cost more than the indexed
            # look-up a search makes; a filter the request does not name filters nothing.
            self.base_filters = {
                name: f for name, f in type(self).base_filters.items() if name in data
            }
        super().__init__(data, queryset=queryset, **kwargs)

    def _accounts(self) -> QuerySet:
        return (
            Account.objects.filter(tenant=self.tenant) if self.tenant is not None else self.queryset
        )

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        term = value.strip().lower()
        if not term:
            return queryset
        return text_search.containing_word(queryset, word=term)

    def filter_email(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip().replace(" ", "+").lower()
        emails = AccountEmail.objects.annotate(v=Lower("value")).filter(v=value)
        if self.tenant is not None:
            emails = emails.filter(tenant=self.tenant)
        else:
            emails = emails.filter(account__in=self.queryset)
        return queryset.filter(
            pk__in=list(emails.order_by().values_list("account_id", flat=True)[:2])
        )

    def filter_email_prefix(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        prefix = value.strip().replace(" ", "+").lower()
        if not prefix:
            return queryset
        emails = AccountEmail.objects.annotate(v=Lower("value")).filter(v__startswith=prefix)
        if self.tenant is not None:
            emails = emails.filter(tenant=self.tenant)
        else:
            emails = emails.filter(account__in=self.queryset)
        # A prefix that few emails start with is answered by primary key. Left as a
        # subquery, PostgreSQL sometimes overestimates its matches from the histogram and
        # walks the whole account table backwards for the newest-first page (0.8 to 13 s
        # on 1,000,000 accounts); for a prefix with many matches that walk is the fast plan.
        few = list(emails.order_by().values_list("account_id", flat=True)[: PREFIX_ID_LIST_MAX + 1])
        if len(few) <= PREFIX_ID_LIST_MAX:
            return queryset.filter(pk__in=few)
        return queryset.filter(pk__in=emails.values("account_id"))

    def filter_phone(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        try:
            phone = clean_phone(value.replace(" ", "+"))
        except PhoneInvalid:
            return queryset.none()
        return self._one_of(queryset, self._accounts().filter(phone_id=phone))

    def filter_username(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        matches = self._accounts().annotate(u=Lower("username")).filter(u=value.strip().lower())
        return self._one_of(queryset, matches)

    def filter_uid(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return self._one_of(queryset, self._accounts().filter(uid=value.strip()))

    @staticmethod
    def _one_of(queryset: QuerySet, matches: QuerySet) -> QuerySet:
        """Unique identifiers match at most one account: find it through its unique index
        first, so the newest-first page query is a primary-key lookup, not a long scan."""
        return queryset.filter(pk__in=list(matches.values_list("pk", flat=True)[:2]))

    def filter_blocked(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(is_active=not value)

    def filter_by_section(
        self, queryset: QuerySet, name: str, value: str | bool | None
    ) -> QuerySet:
        """The accounts the section that registered filter `name` selects for `value`; a
        filter no section answers is refused, since ignoring it would widen the search."""
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            return queryset
        account_ids = search_filter(name)
        if account_ids is None:
            raise InvalidInput(field_errors=[FieldError(name, "This filter is not available.")])
        return queryset.filter(pk__in=account_ids(tenant=self.tenant, value=value))
