"""The account services' named errors answer on the LoginRadius wire exactly as the
LoginRadius errors they replaced: status, ErrorCode, Message, Description and Errors."""

from datetime import UTC, datetime

import pytest

from accounts import errors as e
from accounts.api import lr_errors  # noqa: F401  (the api package registers the LoginRadius rows)
from accounts.profile_fields import invalid
from portal.errors import AccountNotFound, FieldRequired
from portal.lrapi.errors import LRError, required
from portal.lrapi.exceptions import exception_handler

HELD = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)


def answer(error: Exception) -> tuple[int, dict]:
    response = exception_handler(error, {"request": None})
    return response.status_code, response.data


@pytest.mark.parametrize(
    ("error", "before"),
    [
        (e.EmailInvalid(), LRError(1038)),
        (e.PhoneInvalid(), LRError(1096)),
        (e.UidInvalid(), LRError(1200)),
        (e.BirthDateInvalid(), LRError(968)),
        (e.EmailTypeRequired(), LRError(1201)),
        (e.EmailsNotDistinct(), LRError(1202)),
        (e.PrimaryEmailNotUnique(), LRError(1203)),
        (e.AddressTypeRequired(), LRError(1125)),
        (e.AddressTypesNotDistinct(), LRError(1107)),
        (e.EmailTaken(), LRError(936)),
        (e.UsernameTaken(), LRError(1017)),
        (e.PhoneTaken(), LRError(1058)),
        (e.UidTaken(), LRError(1044)),
        (e.LastEmail(), LRError(1005)),
        (e.EmailNotInProfile(), LRError(1340)),
        (e.NoEmailToUnverify(), LRError(1113)),
        (e.EmailAlreadyUnverified(), LRError(1115)),
        (e.NoPhone(), LRError(1147)),
        (e.PhoneAlreadyUnverified(), LRError(1161)),
        (AccountNotFound(), LRError(938)),
        (FieldRequired("newUid"), required("newUid")),
        (
            e.PasswordInvalid("too short", "too common"),
            LRError(
                1134,
                errors=[
                    {"FieldName": "Password", "ErrorMessage": "too short"},
                    {"FieldName": "Password", "ErrorMessage": "too common"},
                ],
            ),
        ),
        (
            e.IdentityTaken(),
            LRError(
                1134,
                errors=[
                    {
                        "FieldName": "ProviderId",
                        "ErrorMessage": "This provider identity is already linked to another account.",
                    }
                ],
            ),
        ),
        (
            e.LastSignInMethod(),
            LRError(
                1134,
                errors=[
                    {
                        "FieldName": "provider",
                        "ErrorMessage": (
                            "This identity is the account's last way to sign in; set a password or link another identity first."
                        ),
                    }
                ],
            ),
        ),
        (
            e.IdentityNotLinked(),
            LRError(404, "This provider identity is not linked to the account."),
        ),
        (
            invalid("emails", "emails must be a list."),
            LRError(
                1134, errors=[{"FieldName": "emails", "ErrorMessage": "emails must be a list."}]
            ),
        ),
        (
            e.EmailRecoveryHeld(HELD),
            LRError(
                1134,
                errors=[
                    {
                        "Field": "Email",
                        "Message": "This email address was added to the account recently and cannot be used to "
                        "reset the password before 2030-01-02 03:04 UTC.",
                    }
                ],
            ),
        ),
    ],
    ids=lambda value: type(value).__name__,
)
def test_each_error_answers_as_the_loginradius_error_it_replaced(error, before):
    assert answer(error) == answer(before)
