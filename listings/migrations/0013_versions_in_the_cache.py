"""Page versions move to the cache (listings.caching): the version tables, their triggers and
the tables that queued bumps until commit go."""

from django.db import migrations

TABLES = ["listings_band", "listings_listing", "listings_listingphoto"]
EVENTS = ["insert", "update", "delete"]


def drop_version_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
            for event in [*EVENTS, "truncate"]:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_pages_{event} ON {table}")
                schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_pages_{event}()")
        schema_editor.execute("DROP TABLE IF EXISTS listings_pendingcommit")
        schema_editor.execute("DROP TABLE IF EXISTS listings_pendingbump")
        schema_editor.execute("DROP FUNCTION IF EXISTS listings_apply_bumps()")
        schema_editor.execute("DROP FUNCTION IF EXISTS listings_bump_catalogue_version()")
    else:
        for table in TABLES:
            for event in EVENTS:
                for kind in ["changed", "membership"]:
                    schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{kind}_{event}")


class Migration(migrations.Migration):

    dependencies = [
        ("listings", "0012_catalogue_shards"),
    ]

    operations = [
        migrations.RunPython(drop_version_triggers, migrations.RunPython.noop),
        migrations.DeleteModel(name="CatalogueVersion"),
        migrations.DeleteModel(name="PageVersion"),
    ]
