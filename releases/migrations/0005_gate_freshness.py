from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0004_evidence_file"),
    ]

    operations = [
        migrations.AddField(
            model_name="release",
            name="assessed_seq",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="release",
            name="gate_valid_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
