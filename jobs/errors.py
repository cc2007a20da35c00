"""What the job services refuse (see portal/errors.py); jobs/api/lr_errors.py gives each its
LoginRadius answer."""

from portal.errors import DomainError, FieldError, Kind, register


@register
class JobNotFound(DomainError):
    code = "job.not_found"
    kind = Kind.NOT_FOUND
    title = "Job not found"
    default_message = "There is no such job."


@register
class JobSelectionEmpty(DomainError):
    code = "job.selection_empty"
    title = "No accounts selected"
    default_message = "Name the accounts: a list of UIDs or at least one search filter."


@register
class JobCountMismatch(DomainError):
    """The selection no longer holds the number of accounts the caller confirmed."""

    code = "job.count_mismatch"
    kind = Kind.CONFLICT
    title = "The selection has changed"
    default_message = "The selection does not hold the expected number of accounts."

    def __init__(self, current_count: int | None = None, expected_count: int | None = None):
        self.current_count = current_count
        if current_count is None:
            super().__init__()
            return
        message = (
            f"The selection now holds {current_count} accounts"
            + (f", not {expected_count}" if expected_count is not None else "")
            + "; run a dry run and confirm its count."
        )
        super().__init__(
            message,
            field_errors=[
                FieldError("expected_count", f"The current count is {current_count}.", "mismatch")
            ],
        )


@register
class JobNotRevertible(DomainError):
    code = "job.not_revertible"
    kind = Kind.CONFLICT
    title = "Job cannot be reverted"
    default_message = (
        "Only a finished job of a reversible action that changed accounts can be reverted."
    )


@register
class JobFinished(DomainError):
    code = "job.finished"
    kind = Kind.CONFLICT
    title = "Job already finished"
    default_message = "The job has already finished."
