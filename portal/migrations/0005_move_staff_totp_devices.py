"""Move staff authenticators out of django-otp's plaintext table into StaffTotpDevice.

Every otp_totp_totpdevice row becomes a StaffTotpDevice with the same owner, name, state,
drift, last accepted step, throttle and timestamps, its seed encrypted with
FIELD_ENCRYPTION_KEY; the plaintext row is then deleted. Staff keep their authenticator
app as it is; sessions verified by an old device end, so everyone signs in once more.

Reversing it puts the devices back in the stock table (plaintext), so rolling back the
code does not lock staff out.
"""

from django.db import migrations

from portal import crypto


def move_plaintext_staff_devices(apps, schema_editor):
    old_model = apps.get_model("otp_totp", "TOTPDevice")
    new_model = apps.get_model("portal", "StaffTotpDevice")
    for old in old_model.objects.order_by("pk").iterator():
        new = new_model.objects.create(
            user_id=old.user_id,
            name=old.name,
            confirmed=old.confirmed,
            key_encrypted=crypto.encrypt(old.key.strip().lower()),
            step=old.step,
            t0=old.t0,
            digits=old.digits,
            tolerance=old.tolerance,
            drift=old.drift,
            last_t=old.last_t,
            throttling_failure_timestamp=old.throttling_failure_timestamp,
            throttling_failure_count=old.throttling_failure_count,
            last_used_at=old.last_used_at,
        )
        if old.created_at is not None:  # auto_now_add set it to now on create
            new_model.objects.filter(pk=new.pk).update(created_at=old.created_at)
        old.delete()


def restore_plaintext_staff_devices(apps, schema_editor):
    old_model = apps.get_model("otp_totp", "TOTPDevice")
    new_model = apps.get_model("portal", "StaffTotpDevice")
    for new in new_model.objects.order_by("pk").iterator():
        old = old_model.objects.create(
            user_id=new.user_id,
            name=new.name,
            confirmed=new.confirmed,
            key=crypto.decrypt(new.key_encrypted),
            step=new.step,
            t0=new.t0,
            digits=new.digits,
            tolerance=new.tolerance,
            drift=new.drift,
            last_t=new.last_t,
            throttling_failure_timestamp=new.throttling_failure_timestamp,
            throttling_failure_count=new.throttling_failure_count,
            last_used_at=new.last_used_at,
        )
        if new.created_at is not None:
            old_model.objects.filter(pk=old.pk).update(created_at=new.created_at)
        new.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0004_staff_totp_device"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [
        migrations.RunPython(move_plaintext_staff_devices, restore_plaintext_staff_devices),
    ]
