"""The LoginRadius answers of the account errors (accounts/errors.py): the codes the
services raised before they spoke in domain errors."""

from accounts import errors as e
from accounts.history import RestoreSourceNotFound
from portal.lrapi.domain_errors import LRMapping, register_mappings

register_mappings(
    {
        e.EmailInvalid: LRMapping(1038),
        e.PhoneInvalid: LRMapping(1096),
        e.UidInvalid: LRMapping(1200),
        e.BirthDateInvalid: LRMapping(968),
        e.EmailTypeRequired: LRMapping(1201),
        e.EmailsNotDistinct: LRMapping(1202),
        e.PrimaryEmailNotUnique: LRMapping(1203),
        e.AddressTypeRequired: LRMapping(1125),
        e.AddressTypesNotDistinct: LRMapping(1107),
        e.PasswordInvalid: LRMapping(1134, errors=True),
        # The Description says which rules failed; each is also an item of Errors.
        e.PasswordPolicyRefused: LRMapping(1134, errors=True, message_is_description=True),
        e.OldPasswordWrong: LRMapping(966, message_is_description=True),
        e.EmailTaken: LRMapping(936),
        e.UsernameTaken: LRMapping(1017),
        e.PhoneTaken: LRMapping(1058),
        e.UidTaken: LRMapping(1044),
        e.IdentityTaken: LRMapping(1134, errors=True),
        e.LastEmail: LRMapping(1005),
        e.EmailNotInProfile: LRMapping(1340),
        e.NoEmailToUnverify: LRMapping(1113),
        e.EmailAlreadyUnverified: LRMapping(1115),
        e.NoPhone: LRMapping(1147),
        e.PhoneAlreadyUnverified: LRMapping(1161),
        # This answer names its item's keys Field and Message, unlike every other Errors list.
        e.EmailRecoveryHeld: LRMapping(1134, errors=True, field_keys=("Field", "Message")),
        e.IdentityNotLinked: LRMapping(404, message_is_description=True),
        e.LastSignInMethod: LRMapping(1134, errors=True),
        # A command's expected_version is not the account's: 412 with this project's
        # precondition code (as a custom object record's stale If-Match answers), the
        # message saying what to do and the ETag naming the current version.
        e.AccountVersionStale: LRMapping(
            9412,
            message_is_description=True,
            headers=lambda error: {"ETag": f'"{error.current_version}"'},
        ),
    }
)

register_mappings({RestoreSourceNotFound: LRMapping(404, message_is_description=True)})
