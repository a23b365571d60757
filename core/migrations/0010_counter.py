from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0009_reset_requests"),
    ]

    operations = [
        migrations.CreateModel(
            name="Counter",
            fields=[
                ("name", models.CharField(max_length=50, primary_key=True, serialize=False)),
                ("value", models.PositiveBigIntegerField(default=0)),
            ],
        ),
    ]
