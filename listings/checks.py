from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def origin_is_set(app_configs, **kwargs):
    """`manage.py check --deploy`: without MERCHEX_ORIGIN, the URLs the site writes name
    whatever allowed host, and port, a request came with."""
    if settings.MERCHEX_ORIGIN:
        return []
    return [
        Warning(
            "MERCHEX_ORIGIN is not set: canonical links, sitemaps, robots.txt and emails use "
            "the host and port each request names.",
            hint="Set MERCHEX_ORIGIN to the site's public address, e.g. https://shop.example.",
            id="merchex.W001",
        )
    ]
