"""Fan pages from Django's cache, fresh after every change, with ETag/Last-Modified and 304s.

What a page shows has a version in the cache: one key per band, one per listing, one for the
catalogue (lists, search, the home page), one for the band list (bands alone: a listing's
change leaves it cached) and one for everything. Signals on saves and deletes
(listings.models), and an explicit call in every path of ours that skips them (admin bulk
actions, import, management commands), bump them at once and again after the transaction
commits. A page is kept under its path, the query parameters its view declares, and the
versions it depends on, read with one get_many: a change makes every process look up a new
key, and no page needs the database to be served. Pages and versions expire after
MERCHEX_PAGE_TTL, so even a write made outside merchex (raw SQL, a restored backup) shows
within that time, or at once after `manage.py clearpages`.
"""

import functools
import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Subquery
from django.http import Http404, HttpResponse, QueryDict
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
)
from django.utils.functional import cached_property
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from listings.origin import origin

EVERYTHING = "everything"
CATALOGUE = "catalogue"
BAND_LIST = "band-list"
PAGE_PARAMETERS = ("page", "p")  # page numbers: read in their one canonical form


def band_key(pk):
    return f"band:{pk}"


def listing_key(pk):
    return f"listing:{pk}"


def versions(names):
    """{name: version} of `names`, one get_many; a missing one starts at the clock."""
    keys = {f"version:{name}": name for name in names}
    found = cache.get_many(keys)
    for key in keys.keys() - found.keys():
        found[key] = cache.get_or_set(key, time.time_ns(), settings.MERCHEX_PAGE_TTL)
    return {keys[key]: version for key, version in found.items()}


def bump(*names):
    """Give `names` new versions now, and again when the current transaction commits: a page
    another process renders from the old rows in between is not kept under the new version.
    The catalogue and everything are not implied: name what changed."""

    def move():
        now = time.time_ns()
        cache.set_many({f"version:{name}": now for name in names}, settings.MERCHEX_PAGE_TTL)

    move()
    transaction.on_commit(move)


def bump_rows(bands=(), listings=(), band_list=False):
    """After a write to these bands and listings: their pages and every list; the band list
    too when the bands themselves changed (`band_list`), not only their listings."""
    bump(
        CATALOGUE,
        *([BAND_LIST] if band_list else []),
        *(band_key(pk) for pk in set(bands) if pk is not None),
        *(listing_key(pk) for pk in set(listings)),
    )


def bump_everything():
    """Every cached page is rendered afresh (an import, a demo load, a migrate, clearpages)."""
    bump(EVERYTHING)


def canonical_query(request, parameters):
    """The query parameters the view reads, in declared order, as a new request.GET; other
    parameters (?utm_source=…) are dropped, so they and the order cannot split the cache.
    A page number not written the one canonical way (01, ١, -1, abc) is no page: 404."""
    kept = QueryDict(mutable=True)
    for name in parameters:
        values = request.GET.getlist(name)
        if name in PAGE_PARAMETERS and values:
            value = values[-1]
            if not value:  # ?page= (an empty field): the first page
                continue
            if not (value.isascii() and value.isdigit() and str(int(value)) == value != "0"):
                raise Http404("No such page")
            values = [value]
        if values:
            kept.setlist(name, values)
    return kept


def staff_preview(request):
    """Staff signed in see drafts. A visitor without a session cookie costs no query."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    return request.user.is_active and request.user.is_staff


def fan_page(depends_on=lambda kwargs: [CATALOGUE], parameters=()):
    """Serve a fan page from the cache while what it shows is unchanged.

    `depends_on(kwargs)` names the versions the page shows beside EVERYTHING; `parameters`
    names the query parameters the view reads: request.GET holds those alone. A fan page has no
    form, so anything but GET/HEAD is a 405, before any CSRF check. Staff previews are never
    cached. MERCHEX_PAGE_CACHE=false (development) renders every request.
    """

    def decorator(view):
        @functools.wraps(view)
        @csrf_exempt  # nothing to post here: require_safe answers 405, not a CSRF 403
        @require_safe
        def wrapper(request, *args, **kwargs):
            request.GET = canonical_query(request, parameters)
            if staff_preview(request):
                request.preview = True
                response = view(request, *args, **kwargs)
                add_never_cache_headers(response)
                patch_cache_control(response, private=True)
                return response
            request.preview = False
            stamps = versions([EVERYTHING, *depends_on(kwargs)])
            request.versions = "-".join(str(stamps[name]) for name in sorted(stamps))
            if not settings.MERCHEX_PAGE_CACHE:
                return view(request, *args, **kwargs)
            # The origin too: without MERCHEX_ORIGIN, absolute links name the request's host.
            url = f"{origin(request)}{request.path}?{request.GET.urlencode()}"
            digest = hashlib.sha256(f"{url} {request.versions}".encode()).hexdigest()
            etag, last_modified = f'"{digest[:32]}"', max(stamps.values()) // 10**9
            response = get_conditional_response(request, etag=etag, last_modified=last_modified)
            if response is None:
                response = served_from_cache(request, view, args, kwargs, f"page:{digest}")
            if response.status_code in (200, 304):
                response["ETag"] = etag
                response["Last-Modified"] = http_date(last_modified)
                # Browsers and proxies may keep the page, but ask again (a cheap 304) each time.
                patch_cache_control(response, public=True, no_cache=True)
            return response

        return wrapper

    return decorator


def served_from_cache(request, view, args, kwargs, key):
    page = cache.get(key)
    if page is not None:
        content_type, content = page
        response = HttpResponse(content, content_type=content_type)
        response["X-Cache"] = "hit"  # for `make soak` and the tests
        return response
    response = view(request, *args, **kwargs)
    if response.status_code == 200 and not response.cookies:

        def keep(rendered):
            page = (rendered["Content-Type"], rendered.content)
            cache.set(key, page, settings.MERCHEX_PAGE_TTL)

        if callable(getattr(response, "render", None)):  # a TemplateResponse (the sitemaps)
            response.add_post_render_callback(keep)
        else:
            keep(response)
    response["X-Cache"] = "miss"
    return response


class FlatPaginator(Paginator):
    """Pages as cheap at the end as at the start.

    - With a `count_key` (the list's path, filters and versions) the count is cached: on
      100,000 listings it is the dearest query of a list page, and it only changes with them.
    - Pages in the back half are read in reverse order from the end, so the largest OFFSET is
      half the list; from DEFERRED_JOIN_OFFSET on, the OFFSET walks the ordering's index for
      ids alone and only the page's own rows are read (10 times quicker at an OFFSET of 50,000).
    """

    DEFERRED_JOIN_OFFSET = 1000

    def __init__(self, object_list, per_page, count_key=None):
        super().__init__(object_list, per_page)
        self.count_key = count_key and hashlib.sha256(count_key.encode()).hexdigest()

    @cached_property
    def count(self):
        if self.count_key is None:
            return super().count
        count = cache.get(f"count:{self.count_key}")
        if count is None:
            count = super().count
            cache.set(f"count:{self.count_key}", count, settings.MERCHEX_PAGE_TTL)
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
            ids = rows.values("pk")[bottom:top]
            items = list(rows.filter(pk__in=Subquery(ids)))
        else:
            items = list(rows[bottom:top])
        if from_end:
            items.reverse()
        return Page(items, number, self)


class CappedCountPaginator(Paginator):
    """For admin changelists: counts at most CAP rows, so no page ever counts a whole table.

    Beyond CAP rows the changelist says "10,000+" and staff narrow it with search or filters.
    """

    CAP = 10_000

    @cached_property
    def count(self):
        # Ids alone: an annotated list (the bands' listing counts) would compute its annotations
        # for every counted row (20 ms of the band changelist at 100,000 listings).
        return self.object_list.order_by().values("pk")[: self.CAP + 1].count()

    @property
    def capped(self):
        return self.count > self.CAP
