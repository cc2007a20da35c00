"""Flows that span sections: each composes the services of several sections into one
operation and records the events of the steps it takes (DESIGN.md, "Layers").

A flow sits above the sections and below the front doors: the LoginRadius views, the
native API, the console and the management commands call it; no section imports it.

- signin: the session of a completed sign-in (password, second factor, passkey, push, Duo)
- token_consumption: the actions a multipurpose token or OTP authorizes (verify an email or
  phone, reset a password, delete the account), committed with the token's use
- securing: taking a compromised account back (sessions, factors, a new password required)
"""
