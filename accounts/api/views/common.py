"""The base of the LoginRadius account views: the section, the profile answer, and
the account write that carries the security section's answers and `IsLoginLocked`."""

from collections.abc import Callable

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter

from accounts.api import profile_body
from accounts.models import Account
from accounts.selectors import account_get, account_profile
from portal.lrapi.params import CIBody
from portal.lrapi.views import LRAPIView
from security.commands import AccountLockSet, SecurityAnswersSet
from security.services import account_lock_set, security_answers_set

TAG = ["Accounts"]
UID = OpenApiParameter("uid", str, OpenApiParameter.PATH, description="The account UID.")


class AccountsView(LRAPIView):
    section = "accounts"

    def profile(self, account: Account, status: int = 200):
        account = account_get(tenant=self.tenant, uid=account.uid, for_profile=True)
        return self.respond(account_profile(account=account), status=status)

    def account(self, uid: str) -> Account:
        return account_get(tenant=self.tenant, uid=uid)

    def null_support(self) -> bool:
        return self.query.get_bool("nullsupport")

    def profile_write(self, write: Callable[[], Account], body: CIBody) -> Account:
        """Run a create or update of the account with the body's security answers and
        `IsLoginLocked`, which the security section stores in the same transaction: answers
        it refuses leave the account unchanged too. Without either the write's own
        transaction is the only one."""
        answers = profile_body.security_answers(body)
        locked = _login_locked_flag(body)
        if not answers and locked is None:
            return write()
        with transaction.atomic():
            account = write()
            if answers:
                security_answers_set(
                    SecurityAnswersSet(answers=answers),
                    tenant=self.tenant,
                    actor=self.actor,
                    account=account,
                )
            if locked is not None:
                account_lock_set(
                    AccountLockSet(locked=locked),
                    tenant=self.tenant,
                    actor=self.actor,
                    account=account,
                )
        return account


def _login_locked_flag(body: CIBody) -> bool | None:
    """The body's `IsLoginLocked` (any case; checked with the body by the account write),
    or None when it names none."""
    value = body.get("IsLoginLocked") if hasattr(body, "get") else None
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value if isinstance(value, bool) else None
