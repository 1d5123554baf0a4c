"""The version triggers: every write to a watched table bumps the versions of what it changes.

Installed after every `migrate` (listings.apps), not only by a migration: SQLite rebuilds a
table to alter it, and the rebuilt table has lost its triggers. Installing is idempotent.

A write bumps the catalogue's counters (listings.models.CatalogueVersion) and the versions of
the pages it can affect (listings.models.PageVersion): a band's row bumps that band; a
listing's row bumps the listing and its band (before and after the write, if it moved); a
photo's row bumps its listing and that listing's band. TRUNCATE, which names no rows, bumps
every page. Each bump moves a version to at least the clock, in microseconds: a version rolled
back with its transaction, or brought back by restoring a backup, is never committed again for
other data, so no page cached since can match it (no manual step after a restore).

- PostgreSQL: a statement-level trigger per table and event notes what the statement's rows
  (its transition tables) affect in listings_pendingbump, a table of the writing transaction's
  own rows, which no other writer touches. The bumps themselves are made when the transaction
  commits (a deferred constraint trigger, once per transaction): pages in one order (kind, id),
  then the counters, each in the shard of the transaction id. So a writer holds no version row
  while it writes, writers lock version rows in one order and only at commit, and two writers
  meet on a version row only if they change the same page or share a shard; no row is locked
  by every write, and version rows cannot close a deadlock. (The first design locked one
  catalogue row BEFORE each write statement: every writer queued behind every other.)
- SQLite has one writer at a time and no statement triggers: AFTER row triggers, shard 0.
"""

from listings.models import CatalogueVersion, Listing

WATCHED_TABLES = ["listings_band", "listings_listing", "listings_listingphoto"]
EVENTS = ["insert", "update", "delete"]
# Which counters a write to each table bumps: every write the catalogue's, a band's the band
# list's too.
COUNTERS = {
    "listings_band": [CatalogueVersion.CATALOGUE, CatalogueVersion.BANDS],
    "listings_listing": [CatalogueVersion.CATALOGUE],
    "listings_listingphoto": [CatalogueVersion.CATALOGUE],
}
POSTGRESQL_CLOCK = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
SQLITE_CLOCK = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
SQLITE_BUMP = (
    "UPDATE listings_catalogueversion SET version = MAX(version + 1, {clock}), "
    "changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE counter IN ({counters})"
)

PAGES = "listings_pageversion"
# For each watched table: (kind, id) of the pages that a set of its rows affects; {rows} is
# where the rows come from, {row} how their columns are named.
AFFECTED = {
    "listings_band": "SELECT 'band' AS kind, {row}.id AS object_id FROM {rows}",
    "listings_listing": (
        "SELECT 'listing' AS kind, {row}.id AS object_id FROM {rows} "
        "UNION SELECT 'band', {row}.band_id FROM {rows} WHERE {row}.band_id IS NOT NULL"
    ),
    "listings_listingphoto": (
        "SELECT 'listing' AS kind, {row}.listing_id AS object_id FROM {rows} "
        "UNION SELECT 'band', l.band_id FROM {rows} "
        "JOIN listings_listing l ON l.id = {row}.listing_id WHERE l.band_id IS NOT NULL"
    ),
}
UPSERT = (
    f"INSERT INTO {PAGES} (kind, object_id, version) "
    "SELECT kind, object_id, {clock} FROM ({affected}) AS affected {order} "
    "ON CONFLICT (kind, object_id) DO UPDATE SET "
    f"version = {{greatest}}({PAGES}.version + 1, excluded.version)"
)
# The columns whose change can move a row from one list to another (and so change a count):
# CatalogueVersion.MEMBERSHIP is bumped when one changes, or a row is added or removed.
MEMBERSHIP_COLUMNS = {
    "listings_band": ["genre", "published"],
    "listings_listing": ["band_id", "type", "sold", "published"],
}

# PostgreSQL: what a transaction will bump when it commits. A counter is noted as kind
# 'counter', a TRUNCATE as kind 'everything'.
PENDING = "listings_pendingbump"
COMMITS = "listings_pendingcommit"
PENDING_TABLES = [
    f"CREATE UNLOGGED TABLE IF NOT EXISTS {PENDING} (xact bigint NOT NULL, "
    "kind varchar(10) NOT NULL, object_id bigint NOT NULL, PRIMARY KEY (xact, kind, object_id))",
    f"CREATE UNLOGGED TABLE IF NOT EXISTS {COMMITS} (xact bigint PRIMARY KEY)",
]
XACT = "pg_current_xact_id()::text::bigint"
NOTE = f"INSERT INTO {PENDING} (xact, kind, object_id) SELECT {XACT}, kind, object_id FROM "
NOTED = f"ON CONFLICT DO NOTHING; INSERT INTO {COMMITS} VALUES ({XACT}) ON CONFLICT DO NOTHING"
APPLY = "listings_apply_bumps"
APPLY_BODY = f"""
DECLARE
    clock bigint := {POSTGRESQL_CLOCK};
BEGIN
    IF EXISTS (SELECT 1 FROM {PENDING} WHERE xact = NEW.xact AND kind = 'everything') THEN
        UPDATE {PAGES} SET version = GREATEST(version + 1, clock);
    END IF;
    {
    UPSERT.format(
        clock="clock",
        greatest="GREATEST",
        order="ORDER BY kind, object_id",
        affected=f"SELECT kind, object_id FROM {PENDING} "
        "WHERE xact = NEW.xact AND kind IN ('band', 'listing')",
    )
};
    INSERT INTO listings_catalogueversion (id, counter, shard, version, changed_at)
        SELECT object_id * {CatalogueVersion.ROW_IDS} + NEW.xact % {CatalogueVersion.SHARDS},
        object_id, NEW.xact % {CatalogueVersion.SHARDS}, clock, clock_timestamp()
        FROM {PENDING} WHERE xact = NEW.xact AND kind = 'counter' ORDER BY object_id
        ON CONFLICT (counter, shard) DO UPDATE SET
        version = GREATEST(listings_catalogueversion.version + 1, excluded.version),
        changed_at = excluded.changed_at;
    DELETE FROM {PENDING} WHERE xact = NEW.xact;
    DELETE FROM {COMMITS} WHERE xact = NEW.xact;
    RETURN NULL;
END
"""


def counters_sql(table):
    counters = ", ".join(str(counter) for counter in COUNTERS[table])
    return f"SELECT 'counter' AS kind, unnest(ARRAY[{counters}]) AS object_id"


def postgresql_notes(table):
    """(event, REFERENCING clause, function body) for each event on `table`."""
    transitions = {
        "insert": (["new_rows"], "NEW TABLE AS new_rows"),
        "update": (["old_rows", "new_rows"], "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        "delete": (["old_rows"], "OLD TABLE AS old_rows"),
    }
    for event, (relations, referencing) in transitions.items():
        affected = " UNION ".join(
            AFFECTED[table].format(rows=f"{rows} r", row="r") for rows in relations
        )
        body = (
            f"{NOTE} ({affected} UNION ALL {counters_sql(table)}) AS affected {NOTED}; "
            f"{postgresql_membership_note(table, event)}"
        )
        yield event, referencing, body
    membership = f"SELECT 'counter', {CatalogueVersion.MEMBERSHIP}"
    everything = (
        f"{NOTE} (SELECT 'everything' AS kind, 0 AS object_id UNION ALL {counters_sql(table)} "
        f"UNION ALL {membership}) AS affected {NOTED}"
    )
    yield "truncate", "", everything


def postgresql_membership_note(table, event):
    """Note the membership counter if the statement's rows changed what a list holds."""
    columns = MEMBERSHIP_COLUMNS.get(table)
    if not columns:
        return "NULL"  # photos: on no list's count
    if event == "update":
        # A row whose list columns changed is in new_rows but not, as such, in old_rows. A set
        # difference, not a join: transition tables have no index nor statistics, and the
        # planner's nested loop took 14 minutes over a 100,000-row UPDATE.
        listed = ", ".join(["id", *columns])
        rows = f"(SELECT {listed} FROM new_rows EXCEPT SELECT {listed} FROM old_rows) AS moved"
    else:
        rows = "new_rows" if event == "insert" else "old_rows"
    note = f"{NOTE} (SELECT 'counter' AS kind, {CatalogueVersion.MEMBERSHIP} AS object_id) AS m"
    return f"IF EXISTS (SELECT 1 FROM {rows}) THEN {note} {NOTED}; END IF"


def sqlite_membership_trigger(table, event):
    """(name, CREATE TRIGGER statement) bumping the membership version, or None."""
    columns = MEMBERSHIP_COLUMNS.get(table)
    if not columns:
        return None
    name = f"{table}_membership_{event}"
    when = ""
    if event == "update":
        when = "WHEN " + " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in columns)
    bump = SQLITE_BUMP.format(clock=SQLITE_CLOCK, counters=CatalogueVersion.MEMBERSHIP)
    return name, f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} {when} BEGIN {bump}; END"


def sqlite_page_bump(table, event):
    rows = {"insert": ["NEW"], "update": ["OLD", "NEW"], "delete": ["OLD"]}[event]
    # In a row trigger the rows are the one OLD or NEW row, selected from no table.
    affected = " UNION ".join(AFFECTED[table].format(rows="(SELECT 1)", row=row) for row in rows)
    return UPSERT.format(clock=SQLITE_CLOCK, affected=affected, greatest="MAX", order="WHERE true")


# Search (listings.search): an index of each listing's title, band name, type (value and
# label) and description, written by triggers. SQLite: the FTS5 table listings_search, one row
# per listing (rowid = the listing's id). PostgreSQL: the tsvector column listings_listing.search
# (title and band weighted A, type B, description D). A band's new name reaches its listings.
SEARCH_KIND = (
    "CASE {row}.type "
    + " ".join(
        f"WHEN '{value}' THEN '{value} {label}'"
        for value, label in Listing.Type.choices
        if str(label) != value
    )
    + " ELSE {row}.type END"
)
SEARCH_BAND = "coalesce((SELECT name FROM listings_band WHERE id = {row}.band_id), '')"
SQLITE_SEARCH_ROWS = (
    "INSERT INTO listings_search (rowid, title, band, kind, description) "
    f"SELECT {{row}}.id, {{row}}.title, {SEARCH_BAND}, {SEARCH_KIND}, "
    "coalesce({row}.description, '')"
)
POSTGRESQL_SEARCH_DOCUMENT = (
    "setweight(to_tsvector('merchex', coalesce({row}.title, '')), 'A') || "
    f"setweight(to_tsvector('merchex', {SEARCH_BAND}), 'A') || "
    f"setweight(to_tsvector('merchex', {SEARCH_KIND}), 'B') || "
    "setweight(to_tsvector('merchex', coalesce({row}.description, '')), 'D')"
)
SEARCHED_COLUMNS = "title, band_id, type, description"
SQLITE_SEARCH_TRIGGERS = {
    "listings_listing_search_insert": (
        f"AFTER INSERT ON listings_listing BEGIN {SQLITE_SEARCH_ROWS.format(row='NEW')}; END"
    ),
    "listings_listing_search_update": (
        f"AFTER UPDATE OF {SEARCHED_COLUMNS} ON listings_listing BEGIN "
        "DELETE FROM listings_search WHERE rowid = OLD.id; "
        f"{SQLITE_SEARCH_ROWS.format(row='NEW')}; END"
    ),
    "listings_listing_search_delete": (
        "AFTER DELETE ON listings_listing BEGIN "
        "DELETE FROM listings_search WHERE rowid = OLD.id; END"
    ),
    "listings_band_search_rename": (
        "AFTER UPDATE OF name ON listings_band BEGIN UPDATE listings_search SET band = NEW.name "
        "WHERE rowid IN (SELECT id FROM listings_listing WHERE band_id = NEW.id); END"
    ),
}
POSTGRESQL_SEARCH_TRIGGERS = {
    "listings_listing_search": (
        "listings_listing",
        f"NEW.search := {POSTGRESQL_SEARCH_DOCUMENT.format(row='NEW')}; RETURN NEW",
        f"BEFORE INSERT OR UPDATE OF {SEARCHED_COLUMNS} ON listings_listing FOR EACH ROW",
    ),
    "listings_band_search": (
        "listings_band",
        # Touching the title has the row trigger above write each listing's document again.
        "UPDATE listings_listing SET title = title WHERE band_id = NEW.id; RETURN NULL",
        "AFTER UPDATE OF name ON listings_band FOR EACH ROW "
        "WHEN (OLD.name IS DISTINCT FROM NEW.name)",
    ),
}


def has_search_index(connection):
    tables = connection.introspection.table_names()
    if "listings_listing" not in tables:
        return False  # migrated back to zero
    if connection.vendor == "postgresql":
        columns = connection.introspection.get_table_description(
            connection.cursor(), "listings_listing"
        )
        return any(column.name == "search" for column in columns)
    return "listings_search" in tables


def refresh_search(connection):
    """Write every listing's search entry again, with no trigger watching (after migrations,
    which run without triggers, may have changed listings): about a second at 100,000."""
    if not has_search_index(connection):
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            document = POSTGRESQL_SEARCH_DOCUMENT.format(row="l")
            cursor.execute(f"UPDATE listings_listing l SET search = {document}")
        else:
            cursor.execute("DELETE FROM listings_search")
            cursor.execute(f"{SQLITE_SEARCH_ROWS.format(row='l')} FROM listings_listing l")


def install_search(connection, cursor):
    if not has_search_index(connection):
        return  # migrated back before search
    if connection.vendor == "postgresql":
        for name, (table, body, when) in POSTGRESQL_SEARCH_TRIGGERS.items():
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger "
                f"AS $$ BEGIN {body}; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            cursor.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {name}()")
    else:
        for name, definition in SQLITE_SEARCH_TRIGGERS.items():
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"CREATE TRIGGER {name} {definition}")


def uninstall_search(connection, cursor):
    if connection.vendor == "postgresql":
        tables = set(connection.introspection.table_names())
        for name, (table, _, _) in POSTGRESQL_SEARCH_TRIGGERS.items():
            if table in tables:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    else:
        for name in SQLITE_SEARCH_TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def install(connection):
    tables = set(connection.introspection.table_names())
    if "listings_catalogueversion" not in tables:
        return  # migrated back before the catalogue version existed
    watched = [table for table in WATCHED_TABLES if table in tables]
    pages = PAGES in tables  # not when migrated back before page versions
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(
            cursor, "listings_catalogueversion"
        )
        if not any(column.name == "counter" for column in description):
            return  # migrated back before the counters had shards
        if connection.vendor == "postgresql":
            install_postgresql(cursor, watched, pages)
        elif connection.vendor == "sqlite":
            for table in watched:
                counters = ", ".join(str(counter) for counter in COUNTERS[table])
                bump = SQLITE_BUMP.format(clock=SQLITE_CLOCK, counters=counters)
                for event in EVENTS:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_changed_{event}")
                    cursor.execute(
                        f"CREATE TRIGGER {table}_changed_{event} AFTER {event.upper()} "
                        f"ON {table} BEGIN {bump}; "
                        f"{sqlite_page_bump(table, event) + ';' if pages else ''} END"
                    )
                    membership = sqlite_membership_trigger(table, event) if pages else None
                    if membership:
                        cursor.execute(f"DROP TRIGGER IF EXISTS {membership[0]}")
                        cursor.execute(membership[1])
        else:
            raise NotImplementedError(f"merchex has no triggers for {connection.vendor}")
        install_search(connection, cursor)


def install_postgresql(cursor, watched, pages):
    if not pages:
        return  # migrated back before page versions: the migrations' own triggers stay
    for sql in PENDING_TABLES:
        cursor.execute(sql)
    cursor.execute(
        f"CREATE OR REPLACE FUNCTION {APPLY}() RETURNS trigger AS $$ {APPLY_BODY} $$ "
        "LANGUAGE plpgsql"
    )
    cursor.execute(f"DROP TRIGGER IF EXISTS {APPLY} ON {COMMITS}")
    cursor.execute(
        f"CREATE CONSTRAINT TRIGGER {APPLY} AFTER INSERT ON {COMMITS} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {APPLY}()"
    )
    for table in watched:
        cursor.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")  # the first design
        for event, referencing, body in postgresql_notes(table):
            name = f"{table}_pages_{event}"
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger "
                f"AS $$ BEGIN {body}; RETURN NULL; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            referencing = f"REFERENCING {referencing}" if referencing else ""
            cursor.execute(
                f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )


def uninstall(connection):
    """Drop every merchex trigger, before a migrate (listings.apps): a migration may drop or
    rename a column a trigger names (SQLite then refuses to rebuild the table). `install` puts
    them back after the migrate, and `bump_everything` makes every cached page cold, since
    whatever the migrations changed went unseen by triggers."""
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in WATCHED_TABLES:
            if table not in tables:
                continue
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
                for event in [*EVENTS, "truncate"]:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_pages_{event} ON {table}")
            else:
                for event in EVENTS:
                    for kind in ["changed", "membership"]:
                        cursor.execute(f"DROP TRIGGER IF EXISTS {table}_{kind}_{event}")
        if connection.vendor == "postgresql" and COMMITS in tables:
            cursor.execute(f"DROP TRIGGER IF EXISTS {APPLY} ON {COMMITS}")
        uninstall_search(connection, cursor)


def bump_everything(connection):
    """Move every version past the clock: no page cached before can be served again."""
    tables = set(connection.introspection.table_names())
    clock = POSTGRESQL_CLOCK if connection.vendor == "postgresql" else SQLITE_CLOCK
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    with connection.cursor() as cursor:
        for table in ["listings_catalogueversion", PAGES]:
            if table in tables:
                cursor.execute(f"UPDATE {table} SET version = {greatest}(version + 1, {clock})")


def installed(connection):
    """The names of the triggers on the watched tables, as the database lists them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgrelid::regclass::text = ANY(%s)",
                [[*WATCHED_TABLES, COMMITS]],
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
        events = [*EVENTS, "truncate"]
        return (
            {APPLY}
            | {f"{table}_pages_{event}" for table in WATCHED_TABLES for event in events}
            | set(POSTGRESQL_SEARCH_TRIGGERS)
        )
    return (
        {f"{table}_changed_{event}" for table in WATCHED_TABLES for event in EVENTS}
        | {f"{table}_membership_{event}" for table in MEMBERSHIP_COLUMNS for event in EVENTS}
        | set(SQLITE_SEARCH_TRIGGERS)
    )
