"""Model fields for values encrypted with FIELD_ENCRYPTION_KEY (`portal.crypto`).

They store what `portal.crypto.encrypt` returned and do not encrypt by themselves: the
service that stores a secret encrypts it and the one that needs it decrypts it, so every
plaintext stays visible where it is used. The types exist so that
`manage.py encryption_keys_rotate` finds every encrypted column, including ones added
later, without a list to keep up to date: a secret stored encrypted uses one of them.
"""

from django.db import models


class EncryptedTextField(models.TextField):
    """A `portal.crypto.encrypt` token; "" when there is nothing stored."""


class SealedJSONField(models.JSONField):
    """JSON in which some strings are sealed: `portal.commands.SEALED` followed by a
    `portal.crypto.encrypt` token (a stored command's secret fields, `to_json(seal=True)`)."""
