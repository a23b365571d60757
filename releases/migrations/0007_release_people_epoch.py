from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0006_reasons_as_data"),
    ]

    operations = [
        migrations.AddField(
            model_name="release",
            name="people_epoch",
            field=models.PositiveBigIntegerField(default=0),
        ),
    ]
