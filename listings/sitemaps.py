import copy
import functools

from django.conf import settings
from django.contrib import sitemaps
from django.urls import reverse

from listings import info_pages
from listings.models import Band, Listing
from listings.origin import origin_host, origin_scheme


class Sitemap(sitemaps.Sitemap):
    """URLs at MERCHEX_ORIGIN when it is set (see `at_origin` for the host)."""

    @property
    def protocol(self):
        return origin_scheme()


def at_origin(view):
    """Django's sitemap views write the host the request names: give them MERCHEX_ORIGIN's."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if settings.MERCHEX_ORIGIN:
            request = copy.copy(request)
            request.get_host = origin_host
        return view(request, *args, **kwargs)

    return wrapper


class PageSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        pages = ["listings:home", "listings:band-list", "listings:listing-list", "listings:contact"]
        # The information pages the footer links (their text is not in the catalogue's
        # version, so no last change is given for them).
        return [(name, ()) for name in pages] + [
            ("listings:info-page", (slug,)) for slug in info_pages.DEFAULTS
        ]

    def location(self, item):
        name, args = item
        return reverse(name, args=args)


class CatalogueSitemap(Sitemap):
    """Every band or every listing, at its canonical URL, with its last change."""

    changefreq = "weekly"
    model = None
    name_field = None

    def items(self):
        return self.model.objects.public().only(self.name_field, "updated_at").order_by("pk")

    def lastmod(self, obj):
        return obj.updated_at


class BandSitemap(CatalogueSitemap):
    model, name_field = Band, "name"


class ListingSitemap(CatalogueSitemap):
    model, name_field = Listing, "title"


SITEMAPS = {"pages": PageSitemap, "bands": BandSitemap, "listings": ListingSitemap}
