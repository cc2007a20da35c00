from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0010_idempotency_record"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="webhooks_suppressed",
            field=models.BooleanField(default=False),
        ),
    ]
