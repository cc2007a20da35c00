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
def email_shown(value: str | None) -> str:
    return display.email_shown(value)


@register.filter
def phone_shown(value: str | None) -> str:
    return display.phone_shown(value)


@register.filter
def uid_short(uid: str | None) -> str:
    return display.uid_short(uid)
