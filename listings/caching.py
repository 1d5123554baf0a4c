"""Fan pages from a shared cache, never stale; conditional GETs answered with 304.

Every cached page is stored under the catalogue version (listings.models.CatalogueVersion),
which database triggers bump on any change to a band or a listing. A request reads that version
(one primary-key query), so after a change every worker misses the old entries and renders
afresh. Pages also carry an ETag and Last-Modified built from the same version.
"""

import functools
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.functional import cached_property
from django.utils.http import http_date

from listings.models import CatalogueVersion

PAGE_TIMEOUT = 24 * 60 * 60  # entries of older versions simply age out


@functools.cache
def release():
    """A digest of the code, templates and static files: a deploy never serves old pages."""
    digest = hashlib.sha256()
    for folder in ["listings", "merchex", "templates", "static"]:
        for path in sorted((settings.BASE_DIR / folder).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".html", ".css", ".svg", ".txt"}:
                digest.update(str(path.relative_to(settings.BASE_DIR)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def fan_page(view):
    """Serve a fan page from the cache while the catalogue is unchanged, with ETag/304."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        version, changed_at = CatalogueVersion.current()
        request.catalogue_version = version
        etag = f'"{release()}-{version}"'
        last_modified = int(changed_at.timestamp())
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if response is None:
            url_digest = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
            key = f"page:{release()}:{version}:{url_digest}"
            response = cache.get(key)
            if response is None:
                response = view(request, *args, **kwargs)
                if response.status_code == 200 and not response.cookies:
                    store = functools.partial(cache.set, key, timeout=PAGE_TIMEOUT)
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

    - The count is cached under the catalogue version, so it runs once per change, not per page.
    - Pages in the back half are read in reverse order from the end, so the largest OFFSET is
      half the list and the last page costs what the first does.
    """

    def __init__(self, object_list, per_page, *, version=None):
        super().__init__(object_list, per_page)
        self.version = version

    @cached_property
    def count(self):
        if self.version is None:
            return super().count
        sql = str(self.object_list.query).encode()
        key = f"count:{self.version}:{hashlib.sha256(sql).hexdigest()}"
        count = cache.get(key)
        if count is None:
            count = super().count
            cache.set(key, count, PAGE_TIMEOUT)
        return count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if bottom > self.count // 2 and self.object_list.ordered:
            from_end = self.object_list.reverse()[self.count - top : self.count - bottom]
            return self._get_page(list(from_end)[::-1], number, self)
        return self._get_page(self.object_list[bottom:top], number, self)


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
