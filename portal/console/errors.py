"""What a console view catches around a service call: named domain errors, and the
LoginRadius errors of sections that still raise them (`DomainError.sentence` is what the
console says for the former)."""

from portal.errors import DomainError
from portal.lrapi.errors import LRError

SERVICE_ERRORS = (DomainError, LRError)
