from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from listings.models import Band, Listing


class PageSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return ["listings:home", "listings:band-list", "listings:listing-list", "listings:contact"]

    def location(self, name):
        return reverse(name)


class BandSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Band.objects.only("name", "updated_at").order_by("pk")

    def lastmod(self, band):
        return band.updated_at


class ListingSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Listing.objects.only("title", "updated_at").order_by("pk")

    def lastmod(self, listing):
        return listing.updated_at


SITEMAPS = {"pages": PageSitemap, "bands": BandSitemap, "listings": ListingSitemap}
