from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps import views as sitemaps_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.static import serve

from listings.caching import fan_page
from listings.sitemaps import SITEMAPS, at_origin

# Sitemaps may be a TTL behind the catalogue (MERCHEX_PAGE_TTL): rendering one after every
# write cost a busy catalogue its reads.
sitemap_index = fan_page(depends_on=lambda kwargs: [])
sitemap_page = fan_page(depends_on=lambda kwargs: [], parameters=["p"])

handler400 = "listings.views.bad_request"
handler403 = "listings.views.permission_denied"


def favicon(request):
    """Browsers ask for /favicon.ico on every site, admin pages included."""
    return redirect(static("img/favicon.svg"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path(
        "sitemap.xml",
        sitemap_index(at_origin(sitemaps_views.index)),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap-index",
    ),
    path(
        "sitemap-<section>.xml",
        sitemap_page(at_origin(sitemaps_views.sitemap)),
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
    path("", include("orders.urls")),
    path("", include("listings.urls")),
]
# Development and try-outs only: in production the proxy serves the pictures, or they come from
# object storage (README: Pictures).
if settings.DEBUG or settings.MERCHEX_SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
