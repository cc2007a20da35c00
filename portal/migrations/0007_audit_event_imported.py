from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0006_event_cause_and_schema_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="imported",
            field=models.BooleanField(default=False),
        ),
    ]
