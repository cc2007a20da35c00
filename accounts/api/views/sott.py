"""The Secure One-Time Token for registration."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema

from accounts.api import schema as s
from accounts.api.views.common import TAG, AccountsView
from accounts.selectors import lr_datetime
from accounts.sott import sott_make
from portal.lrapi.errors import LRError

SOTT_MAX_MINUTES = 60 * 24 * 365


class SottView(AccountsView):
    @extend_schema(
        tags=TAG,
        operation_id="generateSott",
        summary="A Secure One-Time Token for registration",
        parameters=[s.query("timedifference", "Validity in minutes (default 10).", type_=int)],
        responses=s.SOTT,
    )
    def get(self, request):
        raw = self.query.get("timedifference")
        minutes = 10
        if raw not in (None, ""):
            try:
                minutes = int(raw)
            except ValueError:
                minutes = 0
            if not 1 <= minutes <= SOTT_MAX_MINUTES:
                raise LRError(
                    1134,
                    errors=[
                        {
                            "FieldName": "timedifference",
                            "ErrorMessage": "timedifference must be a number of minutes from 1 to 525600.",
                        }
                    ],
                )
        credential = self.principal.credential
        if credential is None:
            raise LRError(923)
        start = timezone.now()
        end = start + timedelta(minutes=minutes)
        token = sott_make(
            api_key=self.tenant.api_key, api_secret=credential.raw_secret(), start=start, end=end
        )
        return self.respond({"Sott": token, "ExpiryTime": lr_datetime(end)})
