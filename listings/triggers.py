"""The catalogue-version triggers: every write to a watched table bumps the version.

Installed after every `migrate` (listings.apps), not only by a migration: SQLite rebuilds a
table to alter it, and the rebuilt table has lost its triggers. Installing is idempotent.

- Each bump moves the version to at least the clock, in microseconds: a version rolled back with
  its transaction, or brought back by restoring a backup, is never committed again for other
  data, so no page cached since can match it (no manual step after a restore).
- PostgreSQL: the bump runs BEFORE each write statement. A writer therefore locks the version
  row before any band, listing or photo row, every writer takes its locks in that one order, and
  no two writers can wait for each other in a cycle (AFTER triggers locked the rows first, then
  the version row: 14 deadlocks in 20 s of overlapping admin saves and bulk actions).
- SQLite has one writer at a time and no statement triggers: AFTER row triggers.
"""

WATCHED_TABLES = ["listings_band", "listings_listing", "listings_listingphoto"]
EVENTS = ["insert", "update", "delete"]
BUMP = (
    "UPDATE listings_catalogueversion SET version = {greatest}(version + 1, {clock}), "
    "changed_at = {now} WHERE id = 1"
)
POSTGRESQL_BUMP = BUMP.format(
    greatest="GREATEST",
    clock="(extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
    now="clock_timestamp()",
)
SQLITE_BUMP = BUMP.format(
    greatest="MAX",
    clock="CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)",
    now="strftime('%Y-%m-%d %H:%M:%f', 'now')",
)


def install(connection):
    tables = set(connection.introspection.table_names())
    if "listings_catalogueversion" not in tables:
        return  # migrated back before the catalogue version existed
    watched = [table for table in WATCHED_TABLES if table in tables]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE OR REPLACE FUNCTION listings_bump_catalogue_version() RETURNS trigger "
                f"AS $$ BEGIN {POSTGRESQL_BUMP}; RETURN NULL; END; $$ LANGUAGE plpgsql"
            )
            for table in watched:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
                cursor.execute(
                    f"CREATE TRIGGER {table}_changed BEFORE INSERT OR UPDATE OR DELETE OR "
                    f"TRUNCATE ON {table} FOR EACH STATEMENT "
                    "EXECUTE FUNCTION listings_bump_catalogue_version()"
                )
        elif connection.vendor == "sqlite":
            for table in watched:
                for event in EVENTS:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_changed_{event}")
                    cursor.execute(
                        f"CREATE TRIGGER {table}_changed_{event} AFTER {event.upper()} "
                        f"ON {table} BEGIN {SQLITE_BUMP}; END"
                    )
        else:
            raise NotImplementedError(f"merchex has no triggers for {connection.vendor}")


def installed(connection):
    """The names of the triggers on the watched tables, as the database lists them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgrelid::regclass::text = ANY(%s)",
                [WATCHED_TABLES],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                f"({', '.join(['%s'] * len(WATCHED_TABLES))})",
                WATCHED_TABLES,
            )
        return {row[0] for row in cursor.fetchall()}


def expected(connection):
    if connection.vendor == "postgresql":
        return {f"{table}_changed" for table in WATCHED_TABLES}
    return {f"{table}_changed_{event}" for table in WATCHED_TABLES for event in EVENTS}
