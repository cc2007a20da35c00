"""The LoginRadius answers of the approval errors (approvals/errors.py), for any front door
that speaks that envelope; the native API answers them as problem details."""

from approvals import errors as e
from portal.lrapi.domain_errors import LRMapping, register_mappings

register_mappings(
    {
        e.ApprovalNotFound: LRMapping(404, message_is_description=True),
        e.ApprovalNotPending: LRMapping(1134, errors=True, message_is_description=True),
        e.ApprovalExpired: LRMapping(1134, errors=True, message_is_description=True),
        e.ApprovalOwnRequest: LRMapping(1143, message_is_description=True),
        e.ApprovalNotAllowed: LRMapping(1143, message_is_description=True),
        e.ApprovalPendingOwnRequest: LRMapping(1134, errors=True, message_is_description=True),
        e.ApprovalCommandUnknown: LRMapping(1134, errors=True, message_is_description=True),
        e.ApprovalRequesterNotAllowed: LRMapping(1143, message_is_description=True),
        e.ApprovalResultUnavailable: LRMapping(1134, errors=True, message_is_description=True),
        e.ApprovalResultCollected: LRMapping(1134, errors=True, message_is_description=True),
        e.ApprovalResultExpired: LRMapping(1134, errors=True, message_is_description=True),
    }
)
