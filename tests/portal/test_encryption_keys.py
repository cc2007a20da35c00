"""FIELD_ENCRYPTION_KEY: never derived from SECRET_KEY, required outside the embedded default
and DEBUG, several keys for rotation, and `manage.py encryption_keys_rotate`."""

import base64
import hashlib
import io
import math
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models

from portal import crypto, encryption_keys
from portal.commands import SEALED
from portal.fields import EncryptedTextField, SealedJSONField
from portal.models import ApiCredential, AuditEvent
from tokens.models import OutboxMessage

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


# --- Settings: where the key comes from (`load_settings`: tests/portal/conftest.py) ----------


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "portal" not in path.relative_to(root).parts
    }


def test_a_missing_key_with_debug_off_is_a_startup_error_naming_the_variable(
    load_settings, tmp_path
):
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY is not set"):
        load_settings(DATABASE_URL="postgres://portal@127.0.0.1:5432/portal", SECRET_KEY="s" * 50)
    assert not (tmp_path / "var").exists()


def test_a_missing_key_with_debug_on_is_made_under_var(load_settings, tmp_path):
    first = load_settings(
        DATABASE_URL="postgres://portal@127.0.0.1:5432/portal", SECRET_KEY="s" * 50, DEBUG="1"
    )
    assert Fernet(first.FIELD_ENCRYPTION_KEY)
    assert (tmp_path / "var" / "field_encryption_key").read_text() == first.FIELD_ENCRYPTION_KEY


def test_the_embedded_default_makes_its_key_once_and_reuses_it(load_settings, tmp_path):
    first = load_settings()
    key_file = tmp_path / "var" / "field_encryption_key"
    assert key_file.read_text() == first.FIELD_ENCRYPTION_KEY
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    Fernet(first.FIELD_ENCRYPTION_KEY)  # a usable key, not a placeholder

    second = load_settings()
    assert second.FIELD_ENCRYPTION_KEY == first.FIELD_ENCRYPTION_KEY
    assert second.SECRET_KEY == first.SECRET_KEY


def test_the_key_is_not_derived_from_the_secret_key(load_settings):
    derived = base64.urlsafe_b64encode(
        hashlib.sha256(("field-encryption:" + "s" * 50).encode()).digest()
    ).decode()
    made = load_settings(SECRET_KEY="s" * 50).FIELD_ENCRYPTION_KEY
    assert made != derived
    # A new signing key leaves the encryption key, and so every stored secret, as it was.
    after_new_signing_key = load_settings(SECRET_KEY="t" * 50).FIELD_ENCRYPTION_KEY
    assert after_new_signing_key == made


def test_an_embedded_installation_from_before_keeps_reading_its_rows(load_settings, tmp_path):
    """Its rows were encrypted under the key then derived from its SECRET_KEY: that key is
    written once as its key, and from then on no longer follows SECRET_KEY."""
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_text("k" * 50)
    (tmp_path / "var" / "portal.sqlite3").write_bytes(b"")
    legacy = base64.urlsafe_b64encode(
        hashlib.sha256(("field-encryption:" + "k" * 50).encode()).digest()
    ).decode()
    stored_before = Fernet(legacy).encrypt(b"an API secret")

    loaded = load_settings()
    assert Fernet(loaded.FIELD_ENCRYPTION_KEY).decrypt(stored_before) == b"an API secret"
    kept = load_settings(SECRET_KEY="a new signing key").FIELD_ENCRYPTION_KEY
    assert kept == legacy


def test_importing_settings_writes_only_the_embedded_default_keys(load_settings, tmp_path):
    load_settings()
    assert sorted(_files(tmp_path)) == ["var/field_encryption_key", "var/secret_key"]
    outside_the_code = [p for p in tmp_path.iterdir() if p.name != "portal"]
    assert [p.name for p in outside_the_code] == ["var"]


def test_importing_settings_with_every_key_set_writes_nothing(load_settings, tmp_path):
    load_settings(SECRET_KEY="s" * 50, FIELD_ENCRYPTION_KEY=f"{NEW_KEY},{OLD_KEY}")
    load_settings(
        DATABASE_URL="postgres://portal@127.0.0.1:5432/portal",
        SECRET_KEY="s" * 50,
        FIELD_ENCRYPTION_KEY=NEW_KEY,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["portal"]


def test_a_malformed_key_in_the_list_is_a_startup_error_naming_its_position(load_settings):
    with pytest.raises(ImproperlyConfigured, match="key 2 is not a Fernet key"):
        load_settings(SECRET_KEY="s" * 50, FIELD_ENCRYPTION_KEY=f"{NEW_KEY},not-a-key")


# --- Several keys ----------------------------------------------------------------------------


def test_the_first_key_encrypts_and_every_key_decrypts(settings):
    settings.FIELD_ENCRYPTION_KEY = OLD_KEY
    old_token = crypto.encrypt("seed")
    settings.FIELD_ENCRYPTION_KEY = f"{NEW_KEY}, {OLD_KEY}"  # spaces after commas are fine
    new_token = crypto.encrypt("seed")

    assert Fernet(NEW_KEY).decrypt(new_token.encode()) == b"seed"
    with pytest.raises(InvalidToken):
        Fernet(OLD_KEY).decrypt(new_token.encode())
    assert crypto.decrypt(old_token) == crypto.decrypt(new_token) == "seed"
    assert crypto.reencrypt(new_token) is None  # already under the first key
    moved = crypto.reencrypt(old_token)
    assert Fernet(NEW_KEY).decrypt(moved.encode()) == b"seed"

    settings.FIELD_ENCRYPTION_KEY = NEW_KEY  # the old key removed
    with pytest.raises(ValueError, match="no key in FIELD_ENCRYPTION_KEY matches"):
        crypto.decrypt(old_token)


def test_a_new_signing_key_leaves_stored_secrets_readable(settings):
    token = crypto.encrypt("api secret")
    settings.SECRET_KEY = "a different signing key " * 3
    assert crypto.decrypt(token) == "api secret"


def test_sealed_json_values_are_resealed_wherever_they_sit(settings):
    settings.FIELD_ENCRYPTION_KEY = OLD_KEY
    stored = {
        "type": "account.secure",
        "data": {
            "uid": "u-1",
            "password": SEALED + crypto.encrypt('"S3cret"'),
            "answers": [{"question": "q", "answer": SEALED + crypto.encrypt('"blue"')}],
            "note": "sealed: plain text that only starts like a sealed value",
        },
    }
    settings.FIELD_ENCRYPTION_KEY = f"{NEW_KEY},{OLD_KEY}"
    field = SealedJSONField()
    moved = encryption_keys.reencrypted(stored, field=field)

    assert moved["data"]["uid"] == "u-1" and moved["data"]["note"] == stored["data"]["note"]
    assert moved["data"]["password"] != stored["data"]["password"]
    settings.FIELD_ENCRYPTION_KEY = NEW_KEY
    assert crypto.decrypt(moved["data"]["password"][len(SEALED) :]) == '"S3cret"'
    assert crypto.decrypt(moved["data"]["answers"][0]["answer"][len(SEALED) :]) == '"blue"'
    assert encryption_keys.reencrypted(moved, field=field) is None


# --- Finding the columns ---------------------------------------------------------------------


def test_every_encrypted_column_is_found_by_its_field_type():
    found = {column.label for column in encryption_keys.encrypted_columns()}
    assert {
        "portal_apicredential.secret_encrypted",
        "portal_stafftotpdevice.key_encrypted",
        "security_totpfactor.secret_encrypted",
        "security_pushdevice.device_token_encrypted",
        "security_duoconfig.client_secret_encrypted",
        "tokens_refreshtoken.successor_encrypted",
        "tokens_outboxmessage.context_encrypted",
    } <= found


def test_no_column_named_as_encrypted_is_left_a_plain_text_field():
    """A secret column declared as a plain TextField would be missed by the rotation."""
    from django.apps import apps

    plain = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.local_concrete_fields
        if field.name.endswith(("_encrypted", "_sealed"))
        and isinstance(field, models.TextField | models.CharField | models.JSONField)
        and not isinstance(field, EncryptedTextField | SealedJSONField)
    ]
    assert plain == []


# --- manage.py encryption_keys_rotate --------------------------------------------------------


def _rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("encryption_keys_rotate", *args, stdout=out)
    return out.getvalue()


def _stored_under_old_key(tenant, *, per_column: int, blank_messages: int) -> dict:
    """`per_column` API secrets and outbox contexts encrypted under OLD_KEY (and some
    messages with no context); returns {(model, pk): plaintext}."""
    secrets_ = [f"secret-{n:05d}" for n in range(per_column)]
    ApiCredential.objects.bulk_create(
        ApiCredential(
            tenant=tenant,
            secret_encrypted=crypto.encrypt(raw),
            secret_hash=crypto.token_hash(raw),
            secret_hint=raw[-4:],
        )
        for raw in secrets_
    )
    contexts = [f'{{"token": "t-{n:05d}"}}' for n in range(per_column)]
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                tenant=tenant,
                channel=OutboxMessage.CHANNEL_EMAIL,
                template="verification",
                recipient=f"user{n}@example.com",
                context_encrypted=crypto.encrypt(context),
            )
            for n, context in enumerate(contexts)
        ]
        + [
            OutboxMessage(
                tenant=tenant,
                channel=OutboxMessage.CHANNEL_EMAIL,
                template="welcome",
                recipient="sent@example.com",
                context_encrypted="",
                status=OutboxMessage.SENT,
            )
            for _ in range(blank_messages)
        ]
    )
    expected = {
        ("credential", pk): crypto.decrypt(value)
        for pk, value in ApiCredential.objects.values_list("pk", "secret_encrypted")
    }
    expected.update(
        {
            ("message", pk): crypto.decrypt(value)
            for pk, value in OutboxMessage.objects.exclude(context_encrypted="").values_list(
                "pk", "context_encrypted"
            )
        }
    )
    assert sorted(v for (kind, _), v in expected.items() if kind == "credential") == secrets_
    return expected


def _stored_values() -> dict:
    values = dict(
        (("credential", pk), value)
        for pk, value in ApiCredential.objects.values_list("pk", "secret_encrypted")
    )
    values.update(
        (("message", pk), value)
        for pk, value in OutboxMessage.objects.values_list("pk", "context_encrypted")
    )
    return values


def _under(key: str, values: dict) -> int:
    count = 0
    for value in values.values():
        try:
            Fernet(key).decrypt(value.encode())
        except InvalidToken:
            continue
        count += 1
    return count


def _rotation_resumes_and_leaves_every_value_readable_by_the_new_key_alone(
    settings, tenant, *, per_column: int, batch_size: int, first_batches: int
):
    settings.FIELD_ENCRYPTION_KEY = OLD_KEY
    expected = _stored_under_old_key(tenant, per_column=per_column, blank_messages=25)
    settings.FIELD_ENCRYPTION_KEY = f"{NEW_KEY},{OLD_KEY}"
    events_before = AuditEvent.objects.filter(action="encryption_key.rotated").count()

    with pytest.raises(CommandError, match=f"{2 * per_column} values are not under"):
        _rotate("--check")

    # Interrupted: stopped after `first_batches` batches, as a run cut short would be.
    first = _rotate("--batch-size", str(batch_size), "--max-batches", str(first_batches))
    assert f"Stopped after {first_batches} batches" in first
    assert _under(NEW_KEY, _stored_values()) == first_batches * batch_size
    assert "portal_apicredential.secret_encrypted: " in first  # a progress line per batch
    assert f"{batch_size}/{per_column} read" in first

    # Started again: the values already moved are skipped, the rest re-encrypted.
    second = _rotate("--batch-size", str(batch_size))
    assert f"Done: {2 * per_column - first_batches * batch_size} values re-encrypted" in second
    assert f"{per_column}/{per_column} read (100%)" in second
    assert "tokens_outboxmessage.context_encrypted" in second
    assert "Every encrypted value is under the first key." in _rotate("--check")

    # A further full run writes nothing.
    settled = _stored_values()
    events = AuditEvent.objects.filter(action="encryption_key.rotated").count()
    assert "Done: 0 values re-encrypted" in _rotate("--batch-size", str(batch_size))
    assert _stored_values() == settled
    assert AuditEvent.objects.filter(action="encryption_key.rotated").count() == events
    assert events - events_before == 2 * math.ceil(per_column / batch_size)  # one per batch

    # The old key can go: every value decrypts with the new key alone, to what was stored.
    settings.FIELD_ENCRYPTION_KEY = NEW_KEY
    assert {(kind, pk): crypto.decrypt(settled[(kind, pk)]) for kind, pk in expected} == expected
    assert _under(OLD_KEY, settled) == 0
    blank = [pk for (kind, pk), value in settled.items() if kind == "message" and value == ""]
    assert len(blank) == 25  # rows without a value stay without one


@pytest.mark.django_db
def test_rotation_resumes_after_an_interruption(settings, tenant):
    _rotation_resumes_and_leaves_every_value_readable_by_the_new_key_alone(
        settings, tenant, per_column=40, batch_size=7, first_batches=3
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_rotation_of_thousands_of_rows_on_postgresql_resumes_after_an_interruption(
    settings, tenant
):
    _rotation_resumes_and_leaves_every_value_readable_by_the_new_key_alone(
        settings, tenant, per_column=2000, batch_size=250, first_batches=5
    )


@pytest.mark.django_db
def test_a_value_no_key_decrypts_is_reported_and_left_as_it_is(settings, tenant):
    settings.FIELD_ENCRYPTION_KEY = OLD_KEY
    _stored_under_old_key(tenant, per_column=3, blank_messages=0)
    lost = ApiCredential.objects.order_by("pk")[1]
    foreign = Fernet(Fernet.generate_key()).encrypt(b"under a key nobody has").decode()
    ApiCredential.objects.filter(pk=lost.pk).update(secret_encrypted=foreign)
    settings.FIELD_ENCRYPTION_KEY = f"{NEW_KEY},{OLD_KEY}"

    with pytest.raises(CommandError, match=f"1 could not be decrypted.*pk={lost.pk}"):
        _rotate()
    assert ApiCredential.objects.get(pk=lost.pk).secret_encrypted == foreign
    others = ApiCredential.objects.exclude(pk=lost.pk).values_list("secret_encrypted", flat=True)
    assert all(Fernet(NEW_KEY).decrypt(v.encode()) for v in others)


@pytest.mark.parametrize(
    ("option", "value"), [("--batch-size", "0"), ("--batch-size", "5001"), ("--max-batches", "0")]
)
def test_bad_batch_options_are_refused(option, value):
    with pytest.raises(CommandError, match=option):
        _rotate(option, value)
