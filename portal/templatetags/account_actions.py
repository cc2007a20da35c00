"""`{% load account_actions %}`: the account page's action links without a URL resolve each."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

register = template.Library()

_MARKER = "0action0"


def action_urls(*, tenant_slug: str, uid: str, names: Any) -> dict[str, str]:
    """The URL of each action in `names` on account `uid`: one reverse() for the page, the
    action's name (an identifier) put in its place."""
    url = reverse("console:account_action", args=[tenant_slug, uid, _MARKER])
    before, _, after = url.partition(_MARKER)
    return {name: f"{before}{name}{after}" for name in names if name.isidentifier()}


@register.simple_tag(takes_context=True)
def account_action_url(context: template.Context, name: str) -> str:
    """`{% account_action_url 'edit_profile' as u %}`: from the page's `action_urls`, else
    reversed."""
    known = context.get("action_urls") or {}
    if name in known:
        return known[name]
    return reverse(
        "console:account_action", args=[context["tenant"].slug, context["account"].uid, name]
    )
