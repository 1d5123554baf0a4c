"""The search index (listings.search): an FTS5 table on SQLite; on PostgreSQL a tsvector column
with a GIN index, the `merchex` text search configuration and pg_trgm for "did you mean". The
triggers that keep it, and its first filling, come after the migrate (listings.apps)."""

from django.db import migrations

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # English stems without English stop words: both databases then match the same words.
    "CREATE TEXT SEARCH DICTIONARY merchex_english (TEMPLATE = snowball, Language = english)",
    "CREATE TEXT SEARCH CONFIGURATION merchex (COPY = simple)",
    "ALTER TEXT SEARCH CONFIGURATION merchex ALTER MAPPING FOR asciiword, word, asciihword, "
    "hword, hword_asciipart, hword_part, numword, numhword WITH unaccent, merchex_english",
    "ALTER TABLE listings_listing ADD COLUMN search tsvector",
    "CREATE INDEX listings_listing_search_idx ON listings_listing USING gin (search)",
]
POSTGRESQL_BACK = [
    "DROP INDEX IF EXISTS listings_listing_search_idx",
    "ALTER TABLE listings_listing DROP COLUMN IF EXISTS search",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS merchex",
    "DROP TEXT SEARCH DICTIONARY IF EXISTS merchex_english",
]
SQLITE = [
    "CREATE VIRTUAL TABLE listings_search USING fts5("
    "title, band, kind, description, tokenize = 'porter unicode61 remove_diacritics 2')",
]
SQLITE_BACK = ["DROP TABLE IF EXISTS listings_search"]


def statements(forwards):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            sql = POSTGRESQL if forwards else POSTGRESQL_BACK
        else:
            sql = SQLITE if forwards else SQLITE_BACK
        for statement in sql:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0010_info_pages"),
    ]

    operations = [migrations.RunPython(statements(True), statements(False))]
