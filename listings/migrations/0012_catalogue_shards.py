from django.core.management.color import no_style
from django.db import migrations, models
from django.db.models import F


def name_counters(apps, schema_editor):
    """Rows 1, 2 and 3 were the three counters: each becomes its counter's shard 0 (on
    PostgreSQL the triggers make the other shards at their first write)."""
    versions = apps.get_model("listings", "CatalogueVersion")
    versions.objects.update(counter=F("id"))
    # Rows 1-3 were made with explicit ids: move PostgreSQL's id sequence past them, for the
    # shards to come.
    connection = schema_editor.connection
    for sql in connection.ops.sequence_reset_sql(no_style(), [versions]):
        schema_editor.execute(sql)


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
