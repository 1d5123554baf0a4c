from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from listings.models import Band, Listing


class PageSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return ["listings:home", "listings:band-list", "listings:listing-list", "listings:contact"]

    def location(self, name):
        return reverse(name)


class CatalogueSitemap(Sitemap):
    """Every band or every listing, at its canonical URL, with its last change."""

    changefreq = "weekly"
    model = None
    name_field = None

    def items(self):
        return self.model.objects.only(self.name_field, "updated_at").order_by("pk")

    def lastmod(self, obj):
        return obj.updated_at


class BandSitemap(CatalogueSitemap):
    model, name_field = Band, "name"


class ListingSitemap(CatalogueSitemap):
    model, name_field = Listing, "title"


SITEMAPS = {"pages": PageSitemap, "bands": BandSitemap, "listings": ListingSitemap}
