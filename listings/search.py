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
  name); when none is, the nearest names by trigram similarity ("bjrok" → Björk): pg_trgm's
  similarity() on PostgreSQL, the same formula in Python on SQLite (suggested_bands).
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity
from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, Case, Count, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property

from listings.models import Band, Listing, Unaccent, fold

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


def matches(query, columns=None):
    """A condition on listings: every word of `query` (or a synonym) in the search index, in
    `columns` if given (title, band and type: what weighs A and B on PostgreSQL)."""
    if connection.vendor == "postgresql":
        weights = "AB" if columns else ""
        sql = "listings_listing.search @@ to_tsquery('merchex', %s)"
        return Q(RawSQL(sql, [query.tsquery(weights)], output_field=BooleanField()))
    found = "SELECT rowid FROM listings_search WHERE listings_search MATCH %s"
    return Q(pk__in=RawSQL(found, [query.fts5(columns)]))


class Results:
    """The public listings matching a query, in ranking order, for Django's Paginator: count()
    (the four segments counted in one query) and slices (each segment read newest first and
    stopped at the slice's end: the first page of a word on 25,000 listings reads 20 rows)."""

    def __init__(self, query, count_key=None):
        self.query = query
        self.count_key = count_key  # where the counts are cached (with the page's versions)
        self.found = Listing.objects.public().filter(matches(query))
        self.in_title = matches(query, ["title", "band", "kind"])

    @cached_property
    def counts(self):
        """{(tier, sold): how many}, one query: cached, as a list's count is."""
        counts = cache.get(self.count_key) if self.count_key else None
        if counts is None:
            tier = Case(When(self.in_title, then=Value(0)), default=Value(1))
            rows = self.found.annotate(tier=tier).values("tier", "sold").annotate(n=Count("pk"))
            counts = dict.fromkeys(SEGMENTS, 0)
            for row in rows.order_by():
                counts[row["tier"], row["sold"]] = row["n"]
            if self.count_key:
                cache.set(self.count_key, counts, settings.MERCHEX_PAGE_TTL)
        return counts

    def count(self):
        return sum(self.counts.values())

    def segment(self, tier, sold):
        # A match in the title, band or type is a match: tier 0 asks the index once, not twice
        # (a common word's first page 25 % quicker on SQLite).
        if tier == 0:
            rows = Listing.objects.public().filter(self.in_title)
        else:
            rows = self.found.exclude(self.in_title)
        return rows.filter(sold=sold).order_by("-pk").values_list("pk", flat=True)

    def __getitem__(self, window):
        if not isinstance(window, slice):
            raise TypeError("Results are read a page (a slice) at a time")
        bottom, top = window.start or 0, window.stop
        ids, start = [], 0
        for tier, sold in SEGMENTS:
            size = self.counts[tier, sold]
            low, high = max(bottom - start, 0), min(top - start, size)
            if low < high:
                ids += self.segment(tier, sold)[low:high]
            start += size
            if start >= top:
                break
        found = Listing.objects.with_band().in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]


def bands_named(query, limit):
    """The published bands the query names: each of its words that is not a merch word is in
    the band's name (accents and case ignored). Up to `limit` + 1, by name."""
    band_words = query.band_words
    if not band_words:
        return []
    bands = Band.objects.public().matching(*band_words).order_by("name", "id")
    return list(bands.only("name", "genre", "active")[: limit + 1])


def trigrams(text):
    """pg_trgm's trigrams of `text`: each word lower-cased, padded with two spaces before and
    one after, cut in threes (non-alphanumerics separate words)."""
    found = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return found


def suggested_bands(query, cache_key=None):
    """Up to SUGGESTIONS published bands whose folded name is nearest to the query's band words,
    for "did you mean": pg_trgm's similarity() on PostgreSQL; on SQLite the same formula here,
    over every published band's name (only when no band matched). Kept under `cache_key` (with
    the catalogue's version), as counts are: SQLite scores 1,000 names in 20 ms of a 27 ms page."""
    if cache_key:
        ttl = settings.MERCHEX_PAGE_TTL
        return cache.get_or_set(cache_key, lambda: suggested_bands(query), ttl)
    text = " ".join(query.band_words)
    if not text:
        return []
    bands = Band.objects.public()
    if connection.vendor == "postgresql":
        return list(
            bands.annotate(similarity=TrigramSimilarity(Unaccent("name"), text))
            .filter(similarity__gte=SUGGESTION_SIMILARITY)
            .order_by("-similarity", "name")
            .only("name")[:SUGGESTIONS]
        )
    wanted = trigrams(text)
    scored = []
    for band in bands.only("name"):
        grams = trigrams(fold(band.name))
        similarity = len(wanted & grams) / len(wanted | grams) if grams else 0.0
        if similarity >= SUGGESTION_SIMILARITY:
            scored.append((-similarity, band.name, band.pk, band))
    return [band for *_, band in sorted(scored)[:SUGGESTIONS]]
