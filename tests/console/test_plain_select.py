"""The console's PlainSelect writes what Django's own Select template writes."""

import pytest
from django import forms
from django.utils.translation import gettext_lazy

from portal.console.forms import AccountSearchForm, PlainSelect

CHOICES = [
    ("", "Any"),
    ("yes", "Yes"),
    ("a&b", 'Quote " and <tag>'),
    (3, gettext_lazy("Lazy label")),
    ("Group <one>", [("g1", "First"), ("g2", "Second & more")]),
]


@pytest.mark.parametrize("value", [None, "", "yes", "a&b", 3, "g2", "missing"])
@pytest.mark.parametrize(
    "attrs",
    [None, {"id": "id_x", "required": True, "disabled": False, "data-n": 5, "title": 'a"b<'}],
)
def test_plain_select_equals_djangos_select(value, attrs):
    plain = PlainSelect(choices=CHOICES).render("na<me", value, attrs=attrs)
    django = forms.Select(choices=CHOICES).render("na<me", value, attrs=attrs)
    assert plain == django


def test_the_search_forms_filters_render_as_with_djangos_select():
    data = {"blocked": "yes", "role": "support & co", "locked": "no"}
    roles = ["support & co", "<admin>"]
    plain = AccountSearchForm(data, roles=roles)
    stock = AccountSearchForm(data, roles=roles)
    for name in ("blocked", "locked", "verified", "has_mfa", "role"):
        assert isinstance(plain.fields[name].widget, PlainSelect)
        field = stock.fields[name]
        field.widget = forms.Select(choices=field.choices)
        assert str(plain[name]) == str(stock[name]), name
    assert "selected>support &amp; co</option>" in str(plain["role"])
