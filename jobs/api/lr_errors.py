"""The LoginRadius answers of the job errors (jobs/errors.py), for any front door that
speaks that envelope; the native API answers them as problem details."""

from jobs import errors as e
from portal.lrapi.domain_errors import LRMapping, register_mappings

register_mappings(
    {
        e.JobNotFound: LRMapping(404, message_is_description=True),
        e.JobSelectionEmpty: LRMapping(1134, errors=True, message_is_description=True),
        e.JobCountMismatch: LRMapping(1134, errors=True, message_is_description=True),
        e.JobNotRevertible: LRMapping(1134, errors=True, message_is_description=True),
        e.JobFinished: LRMapping(1134, errors=True, message_is_description=True),
    }
)
