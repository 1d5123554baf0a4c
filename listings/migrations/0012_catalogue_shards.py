from django.db import migrations, models

ROW_IDS = 16  # CatalogueVersion.ROW_IDS when this was written


def name_counters(apps, schema_editor):
    """Rows 1, 2 and 3 were the three counters: each becomes its counter's shard 0, under the
    id every shard row has (CatalogueVersion.row_id), so that no row is numbered by a sequence
    a loaded dump could collide with (on PostgreSQL the triggers make the other shards at
    their first write)."""
    versions = apps.get_model("listings", "CatalogueVersion")
    for row in versions.objects.order_by("-id"):
        versions.objects.filter(pk=row.pk).update(id=row.pk * ROW_IDS, counter=row.pk)


class Migration(migrations.Migration):

    dependencies = [
        ("listings", "0011_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="catalogueversion",
            name="counter",
            field=models.PositiveSmallIntegerField(default=1),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="catalogueversion",
            name="shard",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.RunPython(name_counters, migrations.RunPython.noop),
        migrations.AlterModelOptions(
            name="catalogueversion",
            options={"ordering": ["counter", "shard"]},
        ),
        migrations.AddConstraint(
            model_name="catalogueversion",
            constraint=models.UniqueConstraint(
                fields=("counter", "shard"), name="one_row_per_shard"
            ),
        ),
    ]
