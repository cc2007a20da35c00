"""Template filters over `portal.console.display`: `{% load people %}`."""

from __future__ import annotations

from typing import Any

from django import template

from portal.console import display

register = template.Library()


@register.filter
def person(account: Any) -> str:
    return display.person_name(account)


@register.filter
def name_shown(value: str | None) -> str:
    return display.name_shown(value)


@register.filter
def email_shown(value: str | None) -> str:
    return display.email_shown(value)


@register.filter
def phone_shown(value: str | None) -> str:
    return display.phone_shown(value)


@register.filter
def custom_field_shown(value: Any, name: str) -> str:
    """`{{ value|custom_field_shown:name }}`."""
    return display.custom_field_shown(name, value)


@register.filter
def field_shown(value: Any, name: str) -> Any:
    """A value named by its field (diffs): `{{ value|field_shown:field }}`."""
    return display.field_value_shown(name, value)


@register.filter
def text_shown(value: str | None) -> str:
    return display.text_shown(value)


@register.filter
def approval_summary(approval: Any) -> str:
    """`{{ approval|approval_summary }}`: its stored summary, masked for the reader."""
    return display.approval_summary_shown(approval)


@register.filter
def uid_short(uid: str | None) -> str:
    return display.uid_short(uid)


@register.simple_tag
def people_masked() -> bool:
    """Whether the reader sees people masked (the page then offers a reveal)."""
    return display.current_masking().masked
