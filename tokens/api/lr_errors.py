"""The LoginRadius rows of the tokens app's errors (tokens/errors.py): the codes its
session and messaging calls always answered with."""

from portal.lrapi.domain_errors import LRMapping, register_mappings
from tokens import errors as e

register_mappings(
    {
        e.AccessTokenMissing: LRMapping(1060),
        e.AccessTokenInvalid: LRMapping(905),
        e.AccessTokenExpired: LRMapping(906),
        e.RefreshTokenMissing: LRMapping(1337),
        e.RefreshTokenInvalid: LRMapping(1217),
        e.SessionNotFound: LRMapping(404, message_is_description=True),
        e.SessionAccountBlocked: LRMapping(991),
        e.ImpersonationNotElevatable: LRMapping(1143, message_is_description=True),
        e.MultipurposeTokenUnknown: LRMapping(979),
        e.MultipurposeTokenUsed: LRMapping(979),
        e.MultipurposeTokenExpired: LRMapping(979),
        e.VerificationLinkUnknown: LRMapping(973),
        e.VerificationLinkUsed: LRMapping(974),
        e.VerificationLinkExpired: LRMapping(975),
        e.OtpUnknown: LRMapping(1067),
        e.OtpUsed: LRMapping(1068),
        e.OtpExpired: LRMapping(1069),
        e.SendCooldownActive: LRMapping(1178),
        e.SmsSendCooldownActive: LRMapping(1179),
        e.DailyCapReached: LRMapping(1178),
        e.SmsDailyCapReached: LRMapping(1179),
        # Native API only (message resend); rows so the LoginRadius face stays total.
        e.MessageNotFound: LRMapping(404, message_is_description=True),
        e.MessageNotResendable: LRMapping(1134, message_is_description=True),
    }
)
