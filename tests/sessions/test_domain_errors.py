"""The tokens app's named errors answer on the wire exactly as the `LRError`s its session
and messaging services raised before: code, Message, Description, status and headers, in
both envelopes (lower camel on /api/v2/)."""

import pytest
from django.test import RequestFactory

import portal.urls  # noqa: F401  (the URLconf registers the LoginRadius rows, as before any request)
from portal.errors import AccountNotFound, FieldRequired
from portal.lrapi.errors import LRError
from portal.lrapi.exceptions import exception_handler
from tokens import errors as e

# Each error, and what its call site raised before.
BEFORE = [
    (e.AccessTokenMissing(), LRError(1060)),
    (e.AccessTokenInvalid(), LRError(905)),
    (e.AccessTokenExpired(), LRError(906)),
    (e.RefreshTokenMissing(), LRError(1337)),
    (e.RefreshTokenInvalid(), LRError(1217)),
    (e.SessionNotFound(), LRError(404, "The session does not exist for this account.")),
    (e.SessionAccountBlocked(), LRError(991)),
    (
        e.ImpersonationNotElevatable(),
        LRError(1143, "An impersonation access token cannot be elevated."),
    ),
    (AccountNotFound(), LRError(938)),
    (e.MultipurposeTokenUnknown(), LRError(979)),
    (e.MultipurposeTokenUsed(), LRError(979)),
    (e.MultipurposeTokenExpired(), LRError(979)),
    (e.VerificationLinkUnknown(), LRError(973)),
    (e.VerificationLinkUsed(), LRError(974)),
    (e.VerificationLinkExpired(), LRError(975)),
    (e.OtpUnknown(), LRError(1067)),
    (e.OtpUsed(), LRError(1068)),
    (e.OtpExpired(), LRError(1069)),
    (FieldRequired("phone"), LRError(908, "The phone is a required parameter.")),
    (e.SendCooldownActive(retry_after=12.999), LRError(1178, headers={"Retry-After": "12"})),
    (e.SmsSendCooldownActive(retry_after=0.4), LRError(1179, headers={"Retry-After": "1"})),
    (e.DailyCapReached(retry_after=3600.5), LRError(1178, headers={"Retry-After": "3600"})),
    (e.SmsDailyCapReached(retry_after=59), LRError(1179, headers={"Retry-After": "59"})),
]


def answer(error: Exception, path: str):
    response = exception_handler(error, {"request": RequestFactory().get(path)})
    headers = {name: response[name] for name in ("Retry-After",) if response.has_header(name)}
    return response.status_code, response.data, headers


@pytest.mark.parametrize(
    "path", ["/identity/v2/auth/access_token", "/api/v2/access_token/validate"]
)
@pytest.mark.parametrize(("error", "before"), BEFORE, ids=lambda item: type(item).__name__)
def test_each_error_answers_what_its_call_site_answered_before(error, before, path):
    assert answer(error, path) == answer(before, path)


def test_the_ways_a_token_is_presented_share_their_bases():
    assert issubclass(e.VerificationLinkUsed, e.MultipurposeTokenUsed)
    assert issubclass(e.OtpExpired, e.MultipurposeTokenExpired)
    assert issubclass(e.SmsDailyCapReached, e.DailyCapReached)
    assert issubclass(e.SmsSendCooldownActive, e.SendLimitReached)
