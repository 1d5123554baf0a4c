"""Catalogue-version triggers, take two.

- Every bump moves the version to at least the clock, in microseconds: a version rolled back with
  its transaction, or one brought back by restoring a backup, is never committed again for other
  data, so no page cached since can match (no manual step after a restore).
- PostgreSQL: the bump runs BEFORE each write statement, not after it. A writer then locks the
  version row before any band or listing row, so every writer takes its locks in the same order
  and two writers can never wait for each other in a cycle (AFTER triggers locked the rows
  first, then the version row: 14 deadlocks in 20 s of overlapping admin saves and bulk actions).
  SQLite has one writer at a time and no statement triggers; it keeps AFTER row triggers.
"""

from django.db import migrations

WATCHED_TABLES = ["listings_band", "listings_listing"]
PG_CLOCK = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
SQLITE_CLOCK = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
BUMP = (
    "UPDATE listings_catalogueversion SET version = {greatest}(version + 1, {clock}), "
    "changed_at = {now} WHERE id = 1"
)


def drop_old(schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in WATCHED_TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
    else:
        for table in WATCHED_TABLES:
            for event in ["insert", "update", "delete"]:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_changed_{event}")


def forwards(apps, schema_editor):
    drop_old(schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        bump = BUMP.format(greatest="GREATEST", clock=PG_CLOCK, now="clock_timestamp()")
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION listings_bump_catalogue_version() RETURNS trigger AS $$ "
            f"BEGIN {bump}; RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
        for table in WATCHED_TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_changed BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION listings_bump_catalogue_version()"
            )
    else:
        bump = BUMP.format(greatest="MAX", clock=SQLITE_CLOCK, now=SQLITE_NOW)
        for table in WATCHED_TABLES:
            for event in ["INSERT", "UPDATE", "DELETE"]:
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_changed_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN {bump}; END"
                )


def backwards(apps, schema_editor):
    # Migration 0004's triggers: AFTER each statement, version + 1.
    drop_old(schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION listings_bump_catalogue_version() RETURNS trigger AS $$ "
            "BEGIN UPDATE listings_catalogueversion SET version = version + 1, "
            "changed_at = clock_timestamp() WHERE id = 1; RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
        for table in WATCHED_TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION listings_bump_catalogue_version()"
            )
    else:
        bump = BUMP.replace("{greatest}(version + 1, {clock})", "version + 1").format(
            now=SQLITE_NOW
        )
        for table in WATCHED_TABLES:
            for event in ["INSERT", "UPDATE", "DELETE"]:
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_changed_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN {bump}; END"
                )


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0005_sort_indexes"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
