"""Search: what fans type, matched the way they mean it, on each database's own text search.

- Every word of a query must match somewhere in a listing: its title, its band's name, its type
  (value and label) or its description. Case, accents and punctuation are ignored; words are
  stemmed ("posters" finds "poster"), compounds written three ways are one word ("t-shirt",
  "t shirt", "tshirt"), and SYNONYMS widen a word ("tee" also finds "t-shirt" and "shirt").
- Ranking, in four segments read one after the other: every word in the title, band or type
  (tier 0) before a match that needs the description (tier 1); within each, available before
  sold out; then the newest first (the highest id: ids are given in the order items are added).
- The index: on SQLite an FTS5 table (`porter unicode61 remove_diacritics 2`), on PostgreSQL a
  tsvector column with a GIN index, configuration `merchex` (unaccent, then the English Snowball
  stemmer, no stop words, so that both databases match the same words). Database triggers keep
  it in step with every write, whatever makes it (listings.triggers installs them).
- Queries are built from the words alone (letters and digits), each quoted: no operator a fan
  types (NEAR, OR, "*", "-", quotes) reaches the database as one. At most MAX_WORDS words.
- Bands: those the query names (every word of it that is not a merch word is in the band's
  name), found among the bands each process keeps per catalogue version; when none is, the
  nearest names by trigram similarity ("bjrok" → Björk): pg_trgm's similarity() on
  PostgreSQL, the same formula in Python on SQLite (suggested_bands).
"""

import functools
import hashlib
import re
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection

from listings.caching import cached_page, remember
from listings.models import Band, Listing, Unaccent, cards_with_band, fold

MAX_QUERY_LENGTH = 100  # characters kept of a query
MAX_WORDS = 8  # words kept of a query
SUGGESTIONS = 3  # "did you mean" bands
SUGGESTION_SIMILARITY = 0.2  # pg_trgm similarity at least (0.2: "bjrok" ~ "bjork")

# Words that mean the same to a fan. A word in a group also finds the others; extend freely
# (lower case, no accents, singular).
SYNONYMS = [
    {"tee", "tshirt", "shirt"},
    {"vinyl", "lp", "record"},
    {"hoodie", "hoody", "sweatshirt"},
]
# Words fans write apart or hyphenated, read as one ("t shirt", "t-shirt" → "tshirt").
COMPOUNDS = {("t", "shirt"): "tshirt", ("sweat", "shirt"): "sweatshirt"}
# Words that describe merch rather than name a band: left out when finding the band a query
# names ("foo fighters poster" names Foo Fighters).
MERCH_WORDS = (
    set().union(*SYNONYMS)
    | {fold(value) for value in Listing.Type.values}
    | {fold(str(label)) for label in Listing.Type.labels}
    | {"poster", "merch", "ticket", "tickets", "cd", "cds"}
)

WORD = re.compile(r"[^\W_]+")
SEGMENTS = [(0, False), (0, True), (1, False), (1, True)]  # (tier, sold), in the order shown


def singular(word):
    for ending in ("es", "s"):
        if word.endswith(ending) and len(word) > len(ending) + 2:
            return word[: -len(ending)]
    return word


def words(query, limit=MAX_WORDS):
    """The words of `query`, folded, compounds joined, single letters dropped, at most
    `limit`, each once: "T-Shirts  de Björk!" → ["tshirt", "de", "bjork"]."""
    tokens = WORD.findall(fold(query[:MAX_QUERY_LENGTH]))
    joined = []
    for token in tokens:
        if joined and (joined[-1], singular(token)) in COMPOUNDS:
            joined[-1] = COMPOUNDS[joined[-1], singular(token)]
        else:
            joined.append(token)
    kept = []
    for word in joined:
        if (len(word) > 1 or word.isdigit()) and word not in kept:
            kept.append(word)
    return kept[:limit]


def alternatives(word):
    """The words that `word` stands for: itself, and its synonyms."""
    for group in SYNONYMS:
        if word in group or singular(word) in group:
            return sorted({word, *group})
    return [word]


@dataclass(frozen=True)
class Query:
    words: tuple

    @property
    def key(self):
        """What identifies the query in a cache key."""
        return hashlib.sha256(" ".join(self.words).encode()).hexdigest()

    @property
    def groups(self):
        return [alternatives(word) for word in self.words]

    @property
    def band_words(self):
        return [w for w in self.words if w not in MERCH_WORDS and singular(w) not in MERCH_WORDS]

    def fts5(self, columns=None):
        """An FTS5 query: each word (or one of its synonyms), quoted, in `columns` if given."""
        expression = " AND ".join(
            "(" + " OR ".join(f'"{word}"' for word in group) + ")" for group in self.groups
        )
        return f"{{{' '.join(columns)}}} : ({expression})" if columns else expression

    def tsquery(self, weights=""):
        """A to_tsquery() text: each word (or one of its synonyms), quoted, of `weights`."""
        label = f":{weights}" if weights else ""
        return " & ".join(
            "(" + " | ".join(f"'{word}'{label}" for word in group) + ")" for group in self.groups
        )


def parse(query):
    """A Query, or None when the query has no word to look for ("", "!!!", "a")."""
    found = words(query)
    if not any(len(word) > 1 for word in found):
        return None
    return Query(tuple(found))


# The listings fans may see (published, and not of a draft band), as SQL on the listing `l`.
PUBLIC = (
    "l.published AND NOT EXISTS "
    "(SELECT 1 FROM listings_band b WHERE b.id = l.band_id AND NOT b.published)"
)


class Results:
    """The listings matching a query, in ranking order, for Django's Paginator: count() (the
    four segments counted in one query) and slices (each read in its segment's order and
    stopped at the slice's end: the first page of a word on 25,000 listings reads 20 rows)."""

    def __init__(self, query, cache_key=None):
        self.query = query
        self.vendor = connection.vendor
        self.cache_key = cache_key  # where the counts are kept (under a catalogue version)
        self._counts = None

    # SQL per database: the segment's rows (tier 0 or 1, sold or not), newest first.
    def _segment_sql(self, tier):
        query = self.query
        if self.vendor == "postgresql":
            match = "l.search @@ to_tsquery('merchex', %s)"
            params = [query.tsquery("AB")]
            if tier:
                match = (
                    "l.search @@ to_tsquery('merchex', %s) "
                    "AND NOT l.search @@ to_tsquery('merchex', %s)"
                )
                params = [query.tsquery(), query.tsquery("AB")]
            sql = f"SELECT l.id FROM listings_listing l WHERE {match} AND l.sold = %s AND {PUBLIC} "
            return sql + "ORDER BY l.id DESC LIMIT %s OFFSET %s", params
        title_band_kind = query.fts5(["title", "band", "kind"])
        match = title_band_kind if tier == 0 else f"({query.fts5()}) NOT ({title_band_kind})"
        sql = (
            "SELECT l.id FROM listings_search s JOIN listings_listing l ON l.id = s.rowid "
            f"WHERE listings_search MATCH %s AND l.sold = %s AND {PUBLIC} "
            "ORDER BY s.rowid DESC LIMIT %s OFFSET %s"
        )
        return sql, [match]

    def _count_sql(self):
        query = self.query
        if self.vendor == "postgresql":
            return (
                "SELECT l.search @@ to_tsquery('merchex', %s), l.sold, count(*) "
                "FROM listings_listing l WHERE l.search @@ to_tsquery('merchex', %s) "
                f"AND {PUBLIC} GROUP BY 1, 2",
                [query.tsquery("AB"), query.tsquery()],
            )
        return (
            "SELECT s.rowid IN (SELECT rowid FROM listings_search WHERE listings_search "
            "MATCH %s), l.sold, count(*) FROM listings_search s JOIN listings_listing l "
            f"ON l.id = s.rowid WHERE listings_search MATCH %s AND {PUBLIC} GROUP BY 1, 2",
            [query.fts5(["title", "band", "kind"]), query.fts5()],
        )

    @property
    def counts(self):
        """{(tier, sold): how many}, one query."""
        if self._counts is None and self.cache_key:
            self._counts = cached_page(self.cache_key)
        if self._counts is None:
            counts = dict.fromkeys(SEGMENTS, 0)
            with connection.cursor() as cursor:
                cursor.execute(*self._count_sql())
                for in_title, sold, number in cursor.fetchall():
                    counts[0 if in_title else 1, bool(sold)] += number
            self._counts = counts
            if self.cache_key:
                remember(self.cache_key, counts)
        return self._counts

    def count(self):
        return sum(self.counts.values())

    def __getitem__(self, window):
        if not isinstance(window, slice):
            raise TypeError("Results are read a page (a slice) at a time")
        bottom, top = window.start or 0, window.stop
        ids, start = [], 0
        for segment in SEGMENTS:
            size = self.counts[segment]
            low, high = max(bottom - start, 0), min(top - start, size)
            if low < high:
                tier, sold = segment
                sql, params = self._segment_sql(tier)
                with connection.cursor() as cursor:
                    cursor.execute(sql, [*params, sold, high - low, low])
                    ids += [row[0] for row in cursor.fetchall()]
            start += size
            if start >= top:
                break
        found = cards_with_band().in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]


def bands_named(query, limit, version=None):
    """The published bands the query names: each of its words that is not a merch word is in
    the band's name (accents and case ignored). Up to `limit` + 1, by name, from the bands
    this process keeps per catalogue version (no query once read)."""
    band_words = query.band_words
    if not band_words:
        return []
    found = []
    for band, folded, _ in band_index(version):
        if all(word in folded for word in band_words):
            found.append(band)
            if len(found) > limit:
                break
    return found


def trigrams(text):
    """pg_trgm's trigrams of `text`: each word lower-cased, padded with two spaces before and
    one after, cut in threes (non-alphanumerics separate words)."""
    found = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return found


def suggested_bands(query, version=None):
    """Published bands whose folded name is nearest to the query's band words, for "did you
    mean": pg_trgm on PostgreSQL; on SQLite the same similarity computed here, over the bands
    kept in this process per catalogue `version` (band_index). Kept in the cache per version."""
    text = " ".join(query.band_words)
    if not text:
        return []
    key = version and f"suggest:{version}:{query.key}"
    found = cached_page(key) if key else None
    if found is None:
        found = nearest_bands(text, version)
        if key:
            remember(key, found)
    return [Band(pk=pk, name=name) for pk, name in found]


def nearest_bands(text, version):
    """[(id, name)] of up to SUGGESTIONS bands by similarity to `text`, the nearest first."""
    if connection.vendor == "postgresql":
        return list(
            Band.objects.public()
            .annotate(similarity=TrigramSimilarity(Unaccent("name"), text))
            .filter(similarity__gte=SUGGESTION_SIMILARITY)
            .order_by("-similarity", "name")
            .values_list("pk", "name")[:SUGGESTIONS]
        )
    wanted = trigrams(text)
    scored = []
    for band, _, grams in band_index(version):
        similarity = len(wanted & grams) / len(wanted | grams) if grams else 0.0
        if similarity >= SUGGESTION_SIMILARITY:
            scored.append((-similarity, band.name, band.pk))
    return [(pk, name) for _, name, pk in sorted(scored)[:SUGGESTIONS]]


def band_index(version):
    """(band, folded name, trigrams of the folded name) of every published band, by name: kept
    per catalogue `version`, which any change to a band moves (read afresh without one, for a
    staff preview). A thousand bands take about 0.3 MB."""
    return indexed_bands(version) if version else indexed_bands.__wrapped__(version)


@functools.lru_cache(maxsize=2)
def indexed_bands(version):
    bands = Band.objects.public().only("name", "genre", "active").order_by("name")
    return [(band, fold(band.name), trigrams(fold(band.name))) for band in bands]
