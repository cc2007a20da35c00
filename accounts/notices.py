"""Notices to the account holder: one registry of what they are told and when, and one way
to send it, through the outbox in the caller's transaction.

Two kinds of moment reach the holder:
- a sign-in method was added (any actor; security's services call `notice_send` for it);
- staff acted on the account: reset a factor, changed an email, phone or password, blocked,
  unblocked or unlocked it, issued an impersonation token, deleted it. These follow the
  events (`accounts/notice_subscribers.py`), whichever section recorded them.

A tenant turns each one on or off (`notices_enabled`), chooses whether a notice names the
staff member (`notices_name_staff`, off by default) and says how to reach its support
(`support_contact`). The words are templates (`templates/emails/<template>/`,
`templates/sms/<template>.txt`), and a tenant may keep its own copy under
`.../tenants/<slug>/` (tokens' outbox looks there first). When a contact changes, the old
address is told as well. A spent daily cap never undoes the change: the miss is logged.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from portal import events, slots, tenant_settings
from portal.errors import DomainError
from portal.models import Tenant

logger = logging.getLogger("accounts.notices")

EMAIL, SMS = "email", "sms"


@dataclass(frozen=True)
class Notice:
    key: str  # a value of the tenant's `notices_enabled` (portal.tenant_settings.NOTICE_KINDS)
    template: str
    what: str  # the sentence's core, e.g. "support reset one of your sign-in methods"
    # Sent whatever `notices_enabled` says: the holder's only way to stop the change.
    mandatory: bool = False

    @property
    def label(self) -> str:
        return LABELS[self.key]


LABELS: dict[str, str] = dict(tenant_settings.NOTICE_KINDS)
NOTICES: dict[str, Notice] = {
    notice.key: notice
    for notice in (
        Notice("factor.added", "factoradded", "a sign-in method was added to your account"),
        Notice("factor.reset", "staffaction", "support removed one of your sign-in methods"),
        Notice("contact.changed", "staffaction",
               "support changed the email address or phone number of your account"),
        Notice("password.set", "staffaction", "support set a new password for your account"),
        Notice("account.blocked", "staffaction", "support blocked your account: it cannot sign in"),
        Notice("account.unblocked", "staffaction",
               "support unblocked your account: it can sign in again"),
        Notice("account.unlocked", "staffaction",
               "support unlocked your account after failed sign-ins"),
        Notice("impersonation", "staffaction", "support signed in to your account on your behalf"),
        Notice("account.deleted", "staffaction", "support deleted your account"),
        Notice("recovery.scheduled", "recoveryscheduled",
               "support checked your identity and scheduled a change to your account",
               mandatory=True),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Contact:
    channel: str
    address: str


@events.reads
def holder_contact(account: Account, *, fallback_phone: str = "") -> Contact | None:
    """Where the holder is told: the primary email (any email when none is primary), else
    the account's phone, else `fallback_phone` (a factor's phone)."""
    emails = list(account.emails.all())
    primary = next(
        (e for e in emails if e.type.lower() == "primary"), emails[0] if emails else None
    )
    if primary is not None:
        return Contact(EMAIL, primary.value)
    phone = account.phone_id or fallback_phone
    return Contact(SMS, phone) if phone else None


def notice_enabled(tenant: Tenant, key: str) -> bool:
    chosen = tenant.setting("notices_enabled")
    return key in chosen if isinstance(chosen, list) else True


@events.upkeep
def notice_send(
    key: str,
    *,
    tenant: Tenant,
    account: Account,
    what: str = "",
    staff_label: str = "",
    old_contacts: Iterable[Contact] = (),
    fallback_phone: str = "",
    keep_account: bool = True,
    extra: dict[str, str] | None = None,
) -> int:
    """Queue notice `key` to the holder (and to `old_contacts`, the addresses a change
    replaced); returns how many were queued. `what`: the detail named in the sentence (the
    kind of factor). `keep_account` False: the message outlives the account (a deletion).
    `extra`: more context for the notice's own template (a cancel link)."""
    notice = NOTICES[key]
    if not notice.mandatory and not notice_enabled(tenant, key):
        return 0
    recipients: list[Contact] = []
    current = holder_contact(account, fallback_phone=fallback_phone)
    for contact in (current, *old_contacts):
        if contact is not None and contact.address and contact not in recipients:
            recipients.append(contact)
    sentence = f"{notice.what[:1].upper()}{notice.what[1:]}"
    if staff_label and tenant.setting("notices_name_staff"):
        # A username keeps its own case.
        sentence = notice.what.replace("support", f"{staff_label} from support", 1)
    context = {
        "subject": f"{notice.label}: your {tenant.name} account",
        "body": f"{sentence}.",
        "what": sentence,
        "factor": what,
        "application": tenant.name,
        "when": timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
        "support": tenant.setting("support_contact"),
        **(extra or {}),
    }
    queued = 0
    for contact in recipients:
        try:
            with transaction.atomic():
                slots.message_queue(
                    tenant=tenant,
                    account=account if keep_account else None,
                    channel=contact.channel,
                    template=notice.template,
                    recipient=contact.address,
                    context=context,
                    check_limits=False,
                )
            queued += 1
        except DomainError as refused:
            logger.warning("notice %s for account %s not queued (%s)", key, account.uid, refused)
    return queued
