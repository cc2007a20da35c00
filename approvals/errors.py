"""What the approval services refuse (see portal/errors.py); approvals/api/lr_errors.py
gives each its LoginRadius answer."""

from portal.errors import DomainError, Kind, register


@register
class ApprovalNotFound(DomainError):
    code = "approval.not_found"
    kind = Kind.NOT_FOUND
    title = "Approval request not found"
    default_message = "There is no such approval request."


@register
class ApprovalNotPending(DomainError):
    code = "approval.not_pending"
    kind = Kind.CONFLICT
    title = "Approval request already decided"
    default_message = "This request was already decided, withdrawn or has expired."


@register
class ApprovalExpired(DomainError):
    code = "approval.expired"
    kind = Kind.CONFLICT
    title = "Approval request expired"
    default_message = "This request expired before anyone approved it; ask again."


@register
class ApprovalOwnRequest(DomainError):
    code = "approval.own_request"
    kind = Kind.FORBIDDEN
    title = "A second person must decide"
    default_message = "Someone other than the requester must approve or deny this request."


@register
class ApprovalNotAllowed(DomainError):
    code = "approval.not_allowed"
    kind = Kind.FORBIDDEN
    title = "Not an approver"
    default_message = "You may not decide approval requests of this tenant."


@register
class ApprovalPendingOwnRequest(DomainError):
    code = "approval.pending_own_request"
    kind = Kind.CONFLICT
    title = "Your own request on this account is pending"
    default_message = (
        "You have your own pending request on this account: someone else decides this one."
    )


@register
class ApprovalCommandUnknown(DomainError):
    code = "approval.command_unknown"
    title = "Nothing to approve"
    default_message = "This action cannot be sent for approval."


@register
class ApprovalRequesterNotAllowed(DomainError):
    code = "approval.requester_not_allowed"
    kind = Kind.FORBIDDEN
    title = "The requester may no longer do this"
    default_message = "Whoever asked for this may no longer do it, so it did not run."


@register
class ApprovalResultUnavailable(DomainError):
    """Nothing to collect: the command kept no result, did not run, or it was collected."""

    code = "approval.result_unavailable"
    kind = Kind.CONFLICT
    title = "Nothing to collect"
    default_message = "There is nothing to collect for this request."


@register
class ApprovalResultCollected(ApprovalResultUnavailable):
    code = "approval.result_collected"
    title = "Already collected"
    default_message = "This result was already collected; it is shown only once."


@register
class ApprovalResultExpired(ApprovalResultUnavailable):
    code = "approval.result_expired"
    title = "Result expired"
    default_message = "This result expired before it was collected; ask again."
