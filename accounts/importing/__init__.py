"""Bulk import of accounts from JSON Lines or CSV.

Each record is a LoginRadius profile (keys in any case): `Uid`, `Email` (a list of
`{"Type","Value"}`, a list of strings or one string; in CSV `a@x;b@y`), `EmailVerified`,
`PhoneId`, `PhoneIdVerified`, `UserName`, `FirstName`, `MiddleName`, `LastName`,
`Password` (a hash only: any Django hasher format, or LoginRadius's
`Rfc2898DeriveBytes$iterations$salt$hash`), `Roles` (names of existing roles; CSV
`a;b`), `CustomFields` (object; CSV: JSON text), `IsActive`, `IsEmailSubscribed`,
`RegistrationProvider`, `RegistrationSource` and the free-text and array profile fields.
Read-only and unknown keys (an exported profile carries many) are ignored.

Rows are checked, then written in batches with bulk inserts, one transaction per batch
with its events: `account.imported` (counts only) and, pointing to it (`caused_by`), one
`account.created` per account marked `imported` (webhooks pass those over). A row that cannot be imported
is skipped and written to the error report (line number and reason). After each
committed batch the checkpoint file records the last line read, so `--resume` continues
after it. Passwords keep their hash: Django checks it on the first sign-in and replaces
it with the default hasher's (Argon2).
"""

from accounts.importing.run import ImportResult, accounts_import, checkpoint_line

__all__ = ["ImportResult", "accounts_import", "checkpoint_line"]
