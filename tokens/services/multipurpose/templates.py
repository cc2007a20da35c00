"""Which template renders a message (a tenant's own copy first, then the shared one,
then the generic template), the links emailed tokens point at, and SMS rendering."""

import re
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from portal import events

__all__ = [
    "FALLBACK_TEMPLATE",
    "TEMPLATE_NAME",
    "email_template_resolve",
    "message_link",
    "render_sms",
    "sms_template_resolve",
]

TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
FALLBACK_TEMPLATE = "generic"


def _template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def _template_candidates(tenant, name: str, default: str) -> list[str]:
    """A tenant's own templates (templates/<kind>/tenants/<tenant slug>/<name>) win over the
    shared ones; the requested name wins over the message type's default."""
    names = [n for n in (name, default) if n and TEMPLATE_NAME.match(n)]
    slug = getattr(tenant, "slug", "") or ""
    candidates = []
    for n in names:
        if slug and TEMPLATE_NAME.match(slug):
            candidates.append(f"tenants/{slug}/{n}")
        candidates.append(n)
    return candidates


@events.reads
def email_template_resolve(name: str, default: str, tenant=None) -> str:
    """The email template to use: `name` if templates/emails/<name>/ exists, else `default`
    (each looked up for the tenant first), else the generic template."""
    for candidate in _template_candidates(tenant, name, default):
        if _template_exists(f"emails/{candidate}/body.txt") or _template_exists(
            f"emails/{candidate}.txt"
        ):
            return candidate
    return FALLBACK_TEMPLATE


@events.reads
def sms_template_resolve(name: str, default: str, tenant=None) -> str:
    for candidate in _template_candidates(tenant, name, default):
        if _template_exists(f"sms/{candidate}.txt"):
            return candidate
    return FALLBACK_TEMPLATE


@events.reads
def message_link(base: str, default_path: str, params: dict[str, str]) -> str:
    """`base` (or PUBLIC_BASE_URL + default_path) with `params` appended to its query."""
    base = base or settings.PUBLIC_BASE_URL.rstrip("/") + default_path
    parts = urlsplit(base)
    query = (parts.query + "&" if parts.query else "") + urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


@events.reads
def render_sms(template: str, context: dict) -> str:
    return get_template(f"sms/{template}.txt").render(context).strip()
