"""The site's address in every absolute URL it writes: canonical links, og:url, structured data,
the sitemaps, robots.txt and the contact emails.

MERCHEX_ORIGIN (e.g. https://merch.example.com) names it. Without it (development, tests) the
request's own scheme and host are used, as Django does; then a request naming another allowed
host, or any port, sees that host in what it reads.
"""

from urllib.parse import urlsplit

from django.conf import settings


def origin(request):
    return settings.MERCHEX_ORIGIN or f"{request.scheme}://{request.get_host()}"


def absolute_url(request, location):
    """`location` (a path such as /bands/1-foo/) as an absolute URL at the site's origin."""
    return origin(request) + location


def origin_host():
    return urlsplit(settings.MERCHEX_ORIGIN).netloc


def origin_scheme():
    return urlsplit(settings.MERCHEX_ORIGIN).scheme or None
