from django.db import migrations


def create_unaccent(apps, schema_editor):
    # Django's UnaccentExtension cannot be reversed on SQLite (its backwards step queries
    # pg_extension on any database), so this checks the vendor both ways.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")


class Migration(migrations.Migration):
    """Accent-insensitive search on PostgreSQL; SQLite gets a Python function (listings.apps)."""

    dependencies = [("listings", "0002_price")]

    # Reversing keeps the extension: other database objects may use it.
    operations = [migrations.RunPython(create_unaccent, migrations.RunPython.noop)]
