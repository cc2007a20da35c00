"""The LoginRadius rows of the security errors (security/errors.py). Errors deriving from
InvalidInput or FieldRequired answer through those rows (1134 with Errors, 908)."""

from portal.lrapi.domain_errors import LRMapping, register_mappings
from security import errors

register_mappings(
    {
        errors.PasswordWrong: LRMapping(966),
        errors.AccountBlocked: LRMapping(991),
        errors.AccountLocked: LRMapping(1132),
        errors.PasswordChangeRequired: LRMapping(1317),
        errors.SecondFactorTokenInvalid: LRMapping(1193),
        errors.BackupCodesExist: LRMapping(1127),
        errors.DuoNotConfigured: LRMapping(404, message_is_description=True),
        errors.DuoUnreachable: LRMapping(950, message_is_description=True),
        errors.DuoNotApproved: LRMapping(1193, message_is_description=True),
        errors.SecureAccountNotFound: LRMapping(404, message_is_description=True),
        errors.PushNotConfigured: LRMapping(1134, errors=True, message_is_description=True),
        errors.RecoveryCaseNotFound: LRMapping(404, message_is_description=True),
        errors.RecoveryCaseNotOpen: LRMapping(1134, errors=True, message_is_description=True),
        errors.RecoveryChecksMissing: LRMapping(1134, errors=True, message_is_description=True),
        errors.RecoveryAttemptsSpent: LRMapping(1134, errors=True, message_is_description=True),
        errors.RecoveryCancelRefused: LRMapping(1134, errors=True, message_is_description=True),
        errors.RecoveryOpenerNotAllowed: LRMapping(1143, message_is_description=True),
    }
)
