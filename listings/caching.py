"""Fan pages from a shared cache, never stale; conditional GETs answered with 304.

Every cached page is stored under the versions of what it shows, which database triggers bump
on any change (listings.triggers): a band's page under that band's version, a listing's page
under the listing's and its band's, every list, search and sitemap under the catalogue version
(listings.models.PageVersion, CatalogueVersion). A request reads the versions its page depends
on (one query), so after a change every worker misses the old entries of the pages it affected,
and only those, and renders them afresh. Pages also carry an ETag and Last-Modified built from
the same versions.

The key is the page's path and the query parameters the page uses (its filters, its page
number), in a fixed order: `?utm_source=…`, a Host with another port, or a different order of
the same filters all read the one cached copy.

Each page is stored with its Brotli and gzip compressions, made once when it is rendered, and
served in the one the client accepts (`Vary: Accept-Encoding`, an ETag per encoding). That is
safe here: a cached fan page holds no secret (no CSRF token, no session, nothing personal; a
member of staff's previews are never cached), so compressing it beside what a visitor typed
gives away nothing (BREACH needs both in one compressed response).
"""

import functools
import gzip
import hashlib
import threading
from collections import OrderedDict

import brotli
from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError
from django.db.models import Subquery
from django.http import HttpResponse, HttpResponseNotAllowed, QueryDict
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.functional import cached_property
from django.utils.http import http_date

from listings.middleware import outage
from listings.models import (
    MAX_ID,
    Band,
    CatalogueVersion,
    Listing,
    PageVersion,
    read_band,
    read_versions,
    version_time,
)
from listings.origin import origin

PAGE_TIMEOUT = 24 * 60 * 60  # entries of older versions age out (or are evicted before, by size)
BAND_VERSION = (
    f"SELECT version FROM {PageVersion._meta.db_table} WHERE kind = 'band' AND object_id = %s"
)
BAND_FIELDS = [field.attname for field in Band._meta.concrete_fields]
LISTING_VERSIONS = (
    f"SELECT kind, version FROM {PageVersion._meta.db_table} "
    "WHERE (kind = 'listing' AND object_id = %s) OR (kind = 'band' AND object_id = "
    f"(SELECT band_id FROM {Listing._meta.db_table} WHERE id = %s))"
)


# What a page depends on: each function reads its versions in one query and answers
# (key, last modified as a Unix time[, key for the page's counts]), or None when there is
# nothing to cache (no such object).


def catalogue(kwargs):
    """The catalogue's version, and for the paginators' counts the version of what each list
    holds (one query for both)."""
    rows = CatalogueVersion.read([CatalogueVersion.CATALOGUE, CatalogueVersion.MEMBERSHIP])
    version, changed = rows[CatalogueVersion.CATALOGUE]
    return f"c{version}", changed, f"m{rows[CatalogueVersion.MEMBERSHIP][0]}"


def catalogue_text(kwargs):
    """The catalogue's version alone, for search: its counts change with any text, not only
    with what each list holds."""
    version, changed = CatalogueVersion.current(CatalogueVersion.CATALOGUE)
    return f"c{version}", changed


def all_bands(kwargs):
    version, changed = CatalogueVersion.current(CatalogueVersion.BANDS)
    return f"a{version}", changed


def one_band(kwargs):
    band_id = kwargs["band_id"]
    rows = read_versions(BAND_VERSION, [band_id]) if band_id <= MAX_ID else None
    if not rows:
        return None
    (version,) = rows[0]
    return f"b{version}", version_time(version)


def one_listing(kwargs):
    listing_id = kwargs["listing_id"]
    if listing_id > MAX_ID:
        return None
    versions = dict(read_versions(LISTING_VERSIONS, [listing_id, listing_id]))
    if "listing" not in versions:
        return None
    # No band version: the listing has no band (or its band has not changed since versions
    # began; its first change creates one, and so a new key).
    band = versions.get("band", 0)
    return f"l{versions['listing']}b{band}", version_time(max(versions["listing"], band))


@functools.cache
def release():
    """A digest of the code, templates, static files and the settings pages show: a deploy or a
    new currency never serves pages rendered before."""
    digest = hashlib.sha256()
    shown = (settings.MERCHEX_CURRENCY, settings.MERCHEX_PAGE_SIZE, settings.STATIC_URL)
    digest.update(repr(shown).encode())
    for folder in ["listings", "merchex", "templates", "static"]:
        for path in sorted((settings.BASE_DIR / folder).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".html", ".css", ".svg", ".txt"}:
                digest.update(str(path.relative_to(settings.BASE_DIR)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class LocalPages:
    """A small least-recently-used store in this worker's memory, in front of the shared cache.

    Safe to keep per process because keys carry the versions of what they hold: a change makes
    every worker look up new keys. Pages are stored as plain (status, content type, body,
    compressions) tuples, a band's field values as a list (page_band).
    """

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.largest = max_bytes // 16  # a bigger page (a sitemap) is read from the shared cache
        self.pages = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    @staticmethod
    def measure(key, value):
        if isinstance(value, tuple):  # a page: the tuple, its strings and the dict's slot
            _, _, body, compressed = value
            return len(key) + len(body) + sum(map(len, compressed.values())) + 300
        if isinstance(value, list):  # a band's fields (page_band): its texts, and the rest
            return len(key) + sum(len(item) for item in value if isinstance(item, str)) + 1000
        return len(key) + 200  # a count, a search's counts

    def get(self, key):
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def set(self, key, page):
        size = self.measure(key, page)
        if size > self.largest:
            return
        with self.lock:
            if key in self.pages:
                self.size -= self.measure(key, self.pages.pop(key))
            self.pages[key] = page
            self.size += size
            while self.size > self.max_bytes:
                old_key, old_page = self.pages.popitem(last=False)
                self.size -= self.measure(old_key, old_page)

    def clear(self):
        with self.lock:
            self.pages.clear()
            self.size = 0


local_pages = LocalPages(settings.MERCHEX_WORKER_PAGE_BYTES)


def clear():
    """Forget every cached page and count (the tests start each case with this)."""
    local_pages.clear()
    cache.clear()


def cached_page(key):
    page = local_pages.get(key)
    if page is None:
        page = cache.get(key)
        if page is not None:
            local_pages.set(key, page)
    return page


# The encodings pages are kept in besides plain, in order of preference, and how each is made.
# Brotli at quality 5: about as small as gzip's best, in a quarter of a millisecond for a list
# page (quality 11 would cost the request that renders the page several milliseconds more).
COMPRESSIONS = {
    "br": functools.partial(brotli.compress, quality=5),
    "gzip": functools.partial(gzip.compress, compresslevel=6, mtime=0),
}
MIN_COMPRESSED_BYTES = 200  # below this the headers cost more than compression saves


def accepted_encoding(request):
    """The first of COMPRESSIONS that the request's Accept-Encoding allows, or None."""
    # From META: request.headers would build a dict of every header for this one.
    return preferred_encoding(request.META.get("HTTP_ACCEPT_ENCODING", ""))


@functools.lru_cache(maxsize=256)  # browsers send a handful of distinct values
def preferred_encoding(header):
    weights = {}
    for part in header.split(","):
        name, _, parameter = part.partition(";")
        weight = 1.0
        if parameter.strip().startswith("q="):
            try:
                weight = float(parameter.strip()[2:])
            except ValueError:
                weight = 0.0
        weights[name.strip().lower()] = weight
    for encoding in COMPRESSIONS:
        if weights.get(encoding, weights.get("*", 0.0)) > 0:
            return encoding
    return None


def page_response(page, encoding):
    status, content_type, content, compressed = page
    response = HttpResponse(status=status, content_type=content_type)
    if encoding in compressed:
        response.content = compressed[encoding]
        response["Content-Encoding"] = encoding
    else:
        response.content = content
    return response


def remember(key, value):
    """Keep `value` (a count, a band's fields) in this worker's memory and the shared cache."""
    local_pages.set(key, value)
    cache.set(key, value, PAGE_TIMEOUT)


def store_page(key, last_copy_key, encoding, response):
    """Keep the page rendered for `response`, plain and compressed, and answer in `encoding`."""
    content = response.content
    compressed = {}
    if len(content) >= MIN_COMPRESSED_BYTES:
        compressed = {name: compress(content) for name, compress in COMPRESSIONS.items()}
    page = (response.status_code, response["Content-Type"], content, compressed)
    local_pages.set(key, page)
    cache.set_many({key: page, last_copy_key: page}, PAGE_TIMEOUT)
    if encoding in compressed:
        response.content = compressed[encoding]
        response["Content-Encoding"] = encoding


def stale_page(request, exc):
    """While the database is unreachable: the last copy of this page any worker rendered
    (stale-if-error, RFC 5861), marked so that nobody keeps it; else the error goes on to the
    outage middleware's 503."""
    page = cache.get(stale_key(request)) if settings.MERCHEX_PAGE_CACHE else None
    if page is None:
        raise exc
    outage.failed(exc)
    response = page_response(page, accepted_encoding(request))
    patch_vary_headers(response, ["Accept-Encoding"])
    response["Cache-Control"] = "no-store"
    return response


def keep_parameters(request, used):
    """Leave the view only the query parameters it uses, in their fixed order
    (`request.GET`), and note them encoded for the page's key (`request.kept_query`)."""
    request.GET, request.kept_query = kept_parameters(
        request.META.get("QUERY_STRING", ""), tuple(used)
    )


@functools.lru_cache(maxsize=1024)
def kept_parameters(query_string, used):
    """(the parameters of `query_string` named in `used`, in that order, as an immutable
    QueryDict; the same encoded): worked out once per distinct query string, which most
    requests repeat (a list's filters, a page number), rather than parsed and encoded anew."""
    # As WSGIRequest.GET reads it: the query string's bytes, decoded as the request would be.
    given = QueryDict(query_string.encode("iso-8859-1"), encoding=settings.DEFAULT_CHARSET)
    kept = QueryDict(mutable=True)
    for name in used:
        if values := given.getlist(name):
            kept.setlist(name, values)
    kept._mutable = False
    return kept, kept.urlencode()


def url_digest(request):
    """Of the page's address: its origin, path and kept parameters (keep_parameters)."""
    url = f"{origin(request)}{request.path}?{request.kept_query}"
    return hashlib.sha256(url.encode()).hexdigest()


def stale_key(request):
    return f"stale:{release()}:{url_digest(request)}"


@functools.lru_cache(maxsize=256)  # a page's versions change rarely: most requests repeat one
def last_modified_date(timestamp):
    return http_date(timestamp)


def staff_preview(request):
    """Whether the request comes from staff signed in, who see drafts. A fan without a session
    cookie costs no query."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = request.user
    return user.is_active and user.is_staff


def fan_page(view=None, *, depends_on=catalogue, parameters=()):
    """Serve a fan page from the cache while what it shows is unchanged, with ETag/304.

    `depends_on` reads the versions the page is cached under (the catalogue by default);
    `parameters` names the query parameters the view reads: it sees no others.
    MERCHEX_PAGE_CACHE=false (the default with DJANGO_DEBUG) renders every page, without ETags;
    only the paginators' counts stay cached.
    """
    if view is None:
        return functools.partial(fan_page, depends_on=depends_on, parameters=parameters)

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])  # a page to read, nothing to post
        keep_parameters(request, parameters)
        request.preview = staff_preview(request)
        if request.preview:  # drafts shown: the page is for this member of staff alone
            response = view(request, *args, **kwargs)
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
            return response
        try:
            versions = depends_on(kwargs)
        except (OperationalError, InterfaceError) as exc:
            return stale_page(request, exc)
        outage.answered()
        # The paginators' counts are cached under the page's key, or a key of their own; a band
        # page's band under the page's (page_band).
        request.page_version = versions and versions[0]
        request.count_version = versions and (versions[2] if len(versions) > 2 else versions[0])
        if not settings.MERCHEX_PAGE_CACHE or versions is None:
            return view(request, *args, **kwargs)
        version, last_modified = versions[:2]
        encoding = accepted_encoding(request)
        # Each encoding of the page is its own representation, with its own ETag.
        etag = f'"{release()}-{version}{f"-{encoding}" if encoding else ""}"'
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        served = "hit"  # told in X-Cache: hit (from the cache, or a 304) or miss (rendered)
        if response is None:
            key = f"page:{release()}:{version}:{url_digest(request)}"
            page = cached_page(key)
            if page is not None:
                response = page_response(page, encoding)
            else:
                served = "miss"
                response = view(request, *args, **kwargs)
                if response.status_code == 200 and not response.cookies:
                    if not getattr(response, "is_rendered", True):
                        # A TemplateResponse (the sitemaps): rendered here, so that it is
                        # stored, compressed and given its encoding's ETag below like the rest.
                        response.render()
                    store_page(key, stale_key(request), encoding, response)
        if response.status_code in (200, 304):
            if response.status_code == 200 and response.get("Content-Encoding") != encoding:
                etag = f'"{release()}-{version}"'  # sent plain (too short to compress)
            response["ETag"] = etag
            response["Last-Modified"] = last_modified_date(last_modified)
            # Browsers and proxies may keep the page but must ask again (a cheap 304) each time.
            if served == "hit":  # a response made here, with neither header yet
                response["Cache-Control"] = "public, no-cache"
                response["Vary"] = "Accept-Encoding"
            else:  # the view's own: add to what it may have set
                patch_cache_control(response, public=True, no_cache=True)
                patch_vary_headers(response, ["Accept-Encoding"])
        response["X-Cache"] = served
        return response

    return wrapper


def page_band(request, band_id):
    """The band of a band page being rendered, or None (no such band).

    Its field values are kept as the page's counts are, under the page's version, which every
    change to the band or its merch moves on: the band's other pages (page 2, a filtered list)
    and every render while the page cache is off read it from the cache, not the database (on
    PostgreSQL that round trip was a fifteenth of the 2,000-listing band page's time). Staff
    previews, and a band without a version yet, read it afresh.
    """
    version = getattr(request, "page_version", None)
    if not version:
        return read_band(band_id)
    key = f"band:{band_id}:{version}"
    values = cached_page(key)
    if values is not None:  # as the ORM read them: no conversion again
        return Band.from_db(DEFAULT_DB_ALIAS, BAND_FIELDS, values)
    band = read_band(band_id)
    if band is not None:
        remember(key, [getattr(band, name) for name in BAND_FIELDS])
    return band


class FlatPaginator(Paginator):
    """Pages as cheap at the end as at the start.

    - With a `count_key` (what identifies the list: its path and filters) and a catalogue
      `version`, the count is cached, so it runs once per change, not once per page.
    - Pages in the back half are read in reverse order from the end, so the largest OFFSET is
      half the list and the last page costs what the first does; the OFFSET itself only walks
      an index (a deferred join, below).
    """

    DEFERRED_JOIN_OFFSET = 1000

    def __init__(self, object_list, per_page, *, version=None, count_key=None):
        super().__init__(object_list, per_page)
        self.key = None
        if version and count_key:
            self.key = f"count:{version}:{hashlib.sha256(count_key.encode()).hexdigest()}"

    @cached_property
    def count(self):
        if self.key is None:
            return super().count
        count = cached_page(self.key)
        if count is None:
            count = super().count
            remember(self.key, count)
        return count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        rows, from_end = self.object_list, False
        if bottom > self.count // 2 and rows.ordered:
            rows, from_end = rows.reverse(), True
            bottom, top = self.count - top, self.count - bottom
        if bottom >= self.DEFERRED_JOIN_OFFSET:
            # A deferred join: the OFFSET walks the ordering's index for ids alone, and only the
            # page's own rows are read and joined (10 times quicker at an OFFSET of 50,000; at
            # small offsets the plain query is quicker to plan and to build).
            ids = rows.values("pk")[bottom:top]
            items = list(rows.filter(pk__in=Subquery(ids)))
        else:
            items = list(rows[bottom:top])
        if from_end:
            items.reverse()
        return self._get_page(items, number, self)


class CappedCountPaginator(Paginator):
    """For admin changelists: counts at most CAP rows, so no page ever counts a whole table.

    Beyond CAP rows the changelist says "10,000+" and staff narrow it with search or filters.
    """

    CAP = 10_000

    @cached_property
    def count(self):
        return self.object_list[: self.CAP + 1].count()

    @property
    def capped(self):
        return self.count > self.CAP
