"""Multipurpose Tokens on the wire: email tokens and SMS OTPs (management API), their
consuming side on the Authentication API paths, and the native delivery-status listing.
Views parse, call a service, shape; routes are in `urls`."""
