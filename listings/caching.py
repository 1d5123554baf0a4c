"""Fan pages from a shared cache, never stale; conditional GETs answered with 304.

Every cached page is stored under the catalogue version (listings.models.CatalogueVersion),
which database triggers bump on any change to a band or a listing. A request reads that version
(one primary-key query), so after a change every worker misses the old entries and renders
afresh. Pages also carry an ETag and Last-Modified built from the same version.
"""

import functools
import hashlib
import threading
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import InterfaceError, OperationalError
from django.db.models import Subquery
from django.http import HttpResponse, HttpResponseNotAllowed
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.functional import cached_property
from django.utils.http import http_date

from listings.middleware import outage
from listings.models import CatalogueVersion

PAGE_TIMEOUT = 24 * 60 * 60  # entries of older versions simply age out


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

    Safe to keep per process because keys carry the catalogue version: a change anywhere makes
    every worker look up new keys. Pages are stored as plain (status, content type, body) tuples.
    """

    def __init__(self, max_entries=256):
        self.max_entries = max_entries
        self.pages = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def set(self, key, page):
        with self.lock:
            self.pages[key] = page
            self.pages.move_to_end(key)
            while len(self.pages) > self.max_entries:
                self.pages.popitem(last=False)

    def clear(self):
        with self.lock:
            self.pages.clear()


local_pages = LocalPages()


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


def store_page(key, last_copy_key, response):
    page = (response.status_code, response["Content-Type"], response.content)
    local_pages.set(key, page)
    cache.set_many({key: page, last_copy_key: page}, PAGE_TIMEOUT)


def stale_page(request, exc):
    """While the database is unreachable: the last copy of this page any worker rendered
    (stale-if-error, RFC 5861), marked so that nobody keeps it; else the error goes on to the
    outage middleware's 503."""
    page = cache.get(stale_key(request)) if settings.MERCHEX_PAGE_CACHE else None
    if page is None:
        raise exc
    outage.failed(exc)
    status, content_type, content = page
    response = HttpResponse(content, status=status, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


def url_digest(request):
    return hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()


def stale_key(request):
    return f"stale:{release()}:{url_digest(request)}"


def fan_page(view):
    """Serve a fan page from the cache while the catalogue is unchanged, with ETag/304.

    MERCHEX_PAGE_CACHE=false (the default with DJANGO_DEBUG) renders every page, without ETags;
    only the paginators' counts stay cached.
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])  # a page to read, nothing to post
        try:
            version, changed_at = CatalogueVersion.current()
        except (OperationalError, InterfaceError) as exc:
            return stale_page(request, exc)
        outage.answered()
        request.catalogue_version = version
        if not settings.MERCHEX_PAGE_CACHE:
            return view(request, *args, **kwargs)
        etag = f'"{release()}-{version}"'
        last_modified = int(changed_at.timestamp())
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if response is None:
            key = f"page:{release()}:{version}:{url_digest(request)}"
            page = cached_page(key)
            if page is not None:
                status, content_type, content = page
                response = HttpResponse(content, status=status, content_type=content_type)
            else:
                response = view(request, *args, **kwargs)
                if response.status_code == 200 and not response.cookies:
                    store = functools.partial(store_page, key, stale_key(request))
                    if getattr(response, "is_rendered", True):
                        store(response)
                    else:  # a TemplateResponse (e.g. the sitemaps): store it once rendered
                        response.add_post_render_callback(store)
        if response.status_code in (200, 304):
            response["ETag"] = etag
            response["Last-Modified"] = http_date(last_modified)
            # Browsers and proxies may keep the page but must ask again (a cheap 304) each time.
            patch_cache_control(response, public=True, no_cache=True)
        return response

    return wrapper


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
            local_pages.set(self.key, count)
            cache.set(self.key, count, PAGE_TIMEOUT)
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
