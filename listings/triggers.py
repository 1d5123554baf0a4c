"""The search index's triggers (listings.search): every write to a listing, or to a band's
name, rewrites the listing's entry, whatever makes the write.

Installed after every `migrate` (listings.apps), not only by a migration: SQLite rebuilds a
table to alter it, and the rebuilt table has lost its triggers. Installing is idempotent.
"""

from listings.models import Listing

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


def install(connection):
    if not has_search_index(connection):
        return  # migrated back before search
    with connection.cursor() as cursor:
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


def uninstall(connection):
    """Drop the triggers before a migrate (listings.apps): a migration may drop or rename a
    column a trigger names (SQLite then refuses to rebuild the table)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tables = set(connection.introspection.table_names())
            for name, (table, _, _) in POSTGRESQL_SEARCH_TRIGGERS.items():
                if table in tables:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        else:
            for name in SQLITE_SEARCH_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
