"""URLs for the error-page tests: the site's own, plus a view that fails."""

from django.urls import include, path


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", boom), path("", include("merchex.urls"))]
