import functools
import json
from html import escape

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from listings.models import band_slug, detail_path
from listings.origin import origin

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}

# As django.utils.html.json_script: nothing in the data can close the <script> element.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag
def site_url(name, *args):
    """{% url name %} for the pages every page links to (home, bands, merch, contact, search,
    the information pages).

    Every page links to the same few pages; reverse() runs once per script prefix, not on each
    page (the eight {% url %} and {% static %} tags of base.html cost a fifth of a band page's
    rendering).
    """
    return fixed_url(name, args, get_script_prefix(), get_urlconf())


@register.simple_tag
def site_static(path):
    """{% static path %}, found once per script prefix (see site_url)."""
    return fixed_static(path, get_script_prefix())


@functools.lru_cache(maxsize=64)
def fixed_url(name, args, script_prefix, urlconf):
    return reverse(name, args=args, urlconf=urlconf)


@functools.lru_cache(maxsize=64)
def fixed_static(path, script_prefix):
    return static(path)


@receiver(setting_changed)
def forget_paths(*, setting, **kwargs):
    """Tests that change where pages or static files live get fresh paths."""
    if setting in {"ROOT_URLCONF", "STATIC_URL", "STORAGES", "FORCE_SCRIPT_NAME"}:
        fixed_url.cache_clear()
        fixed_static.cache_clear()
        detail_path.cache_clear()


@register.filter
def number(value):
    """A whole number with thousands separated: 100000 → "100,000"."""
    return f"{value:,}" if isinstance(value, int) else value


@register.filter
def price(amount):
    """A price in the shop's currency, or "Price on request" when there is none."""
    if amount is None:
        return "Price on request"
    code = settings.MERCHEX_CURRENCY
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {code}"


@register.filter
def ld_json(data):
    """Structured data for search engines, safely embedded in the page."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(
        JSON_SCRIPT_ESCAPES
    )
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))


@register.simple_tag(takes_context=True)
def breadcrumb_ld(context):
    """The page's breadcrumbs as schema.org BreadcrumbList (JSON-LD), with absolute URLs; the
    last crumb, the page itself, at its canonical URL."""
    request = context["request"]
    trail = context["breadcrumbs"]
    site = origin(request)
    here = context.get("canonical_url") or site + request.path
    items = [
        {
            "@type": "ListItem",
            "position": position,
            "name": label,
            "item": site + url if url else here,
        }
        for position, (label, url) in enumerate(trail, start=1)
    ]
    return ld_json(
        {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": items}
    )


# How wide a card's picture is drawn (static/css/site.css): two to a row on a phone.
CARD_SIZES = "(min-width: 72rem) 14rem, (min-width: 48rem) 22vw, 45vw"


def picture_html(picture, *, sizes, eager=False, priority=False, css_class=""):
    """A <picture> of a stored picture's renditions: WebP first, JPEG for the rest, a srcset
    the browser picks from by `sizes`, and explicit width/height so nothing moves as it loads.

    Below the fold pictures load lazily; the page's main one (`priority`) loads first. Built
    from the row alone: no storage call (test_pictures counts them).
    """
    width, height = picture.size_at(min(640, picture.width))
    loading = ' fetchpriority="high"' if priority else "" if eager else ' loading="lazy"'
    sizes = escape(sizes)
    return (
        f'<picture><source type="image/webp" srcset="{escape(picture.srcset("webp"))}" '
        f'sizes="{sizes}"><img class="{css_class}" src="{escape(picture.url(width, "jpg"))}" '
        f'srcset="{escape(picture.srcset("jpg"))}" sizes="{sizes}" width="{width}" '
        f'height="{height}" alt="{escape(picture.alt)}"{loading} decoding="async"></picture>'
    )


def placeholder_html(listing_type, css_class):
    """A drawing of the kind of item, for listings without a picture (decorative: alt="")."""
    kind = str(listing_type).lower()
    src = escape(fixed_static(f"img/placeholder-{kind}.svg", get_script_prefix()))
    return f'<img class="{css_class}" src="{src}" width="320" height="320" alt="">'


@register.simple_tag
def picture(shown, sizes, eager=False, priority=False, css_class=""):
    """{% picture band.shown_picture "16rem" priority=True %}"""
    return mark_safe(
        picture_html(shown, sizes=sizes, eager=eager, priority=priority, css_class=css_class)
    )


@register.simple_tag
def placeholder(listing_type, css_class=""):
    """{% placeholder listing.type "gallery-main" %}: the drawing for items with no picture."""
    return mark_safe(placeholder_html(listing_type, css_class))


@register.simple_tag
def listing_cards(listings, heading="h3", show_band=False, eager=2):
    """A grid of listing cards, built in Python as the admin builds its result rows.

    A page shows twenty cards, and through the template engine (or format_html) they cost more
    than the rest of the page together. Every text that comes from the database is escaped
    (html.escape: what django.utils.html.escape does, without its lazy-string wrapper);
    URLs are made of the script prefix (escaped), ids and slugs ([a-z0-9-]). `heading` (h2 or
    h3) keeps heading levels in order; `show_band` (listings read with_band()) links each card
    to its band, or says "No band" for orphans. The first `eager` cards' pictures load at once,
    the rest lazily.
    """
    if heading not in ("h2", "h3"):
        raise ValueError(f"listing_cards: heading must be h2 or h3, not {heading!r}")
    prefix = escape(get_script_prefix())
    listing_path = prefix + detail_path("listings:listing-detail")
    band_path = prefix + detail_path("listings:band-detail")
    cards = []
    for number, listing in enumerate(listings):
        url = listing_path.format(listing.pk, listing.slug)
        shown = listing.card_picture
        if shown is None:
            image = placeholder_html(listing.type, "card-img")
        else:
            image = picture_html(
                shown, sizes=CARD_SIZES, eager=number < eager, css_class="card-img"
            )
        year = f" · {listing.year}" if listing.year else ""
        sold = " card-sold" if listing.sold else ""
        badge = ' <span class="badge badge-sold">Sold out</span>' if listing.sold else ""
        card = (
            f'<li class="card{sold}">{image}<{heading} class="card-title"><a href="{url}">'
            f"{escape(listing.title)}</a></{heading}>"
            f'<p class="card-meta">{escape(listing.type_label)}{year}{badge}</p>'
            f'<p class="card-price">{escape(price(listing.price))}</p>'
        )
        if show_band:  # the band's id and name, joined in by ListingQuerySet.with_band()
            if listing.band_id is None:
                card += '<p class="card-band"><span class="no-band">No band</span></p>'
            else:
                name = listing.band_name
                band_url = band_path.format(listing.band_id, band_slug(name))
                card += f'<p class="card-band"><a href="{band_url}">{escape(name)}</a></p>'
        cards.append(card + "</li>")
    return mark_safe('<ul class="cards">' + "".join(cards) + "</ul>")


@register.simple_tag
def band_grid(bands):
    """The home page's bands: a link to each, and its genre. Built in Python as the cards are
    (through the template engine these eight links cost the page 0.13 ms); names are escaped,
    paths made of the script prefix (escaped), ids and slugs."""
    band_path = escape(get_script_prefix()) + detail_path("listings:band-detail")
    items = "".join(
        f'<li><a href="{band_path.format(band.pk, band.slug)}">{escape(band.name)}</a> '
        f'<span class="muted">{escape(band.genre_label)}</span></li>'
        for band in bands
    )
    return mark_safe(f'<ul class="band-grid">{items}</ul>')


@register.simple_tag
def result_count(page, noun="item"):
    """ "5,012 items, 25–48 shown": how long the list is and where this page is in it."""
    paginator = page.paginator
    text = f"{paginator.count:,} {noun}{'' if paginator.count == 1 else 's'}"
    if paginator.num_pages > 1:
        text += f", {page.start_index():,}–{page.end_index():,} shown"
    return mark_safe(f'<p class="result-count">{escape(text)}</p>')


@register.simple_tag
def pagination(page):
    """Links to the previous and next pages and to the numbers views.paginate() picked, each
    keeping the list's other parameters (filters, sort). Built in Python as the cards are:
    through the template engine, with {% querystring %} per link, these few links cost a list
    page a tenth of its time."""
    paginator = page.paginator
    if paginator.num_pages < 2:
        return ""
    keep = escape(page.other_parameters)
    start = f"?{keep}&amp;page=" if keep else "?page="
    links = []
    if page.has_previous():
        number = page.previous_page_number()
        links.append(f'<li><a href="{start}{number}" rel="prev">← Previous</a></li>')
    for number in page.linked_numbers:
        if number == paginator.ELLIPSIS:
            links.append('<li><span class="gap">…</span></li>')
        elif number == page.number:
            links.append(
                f'<li><a href="{start}{number}" aria-current="page" '
                f'aria-label="Page {number}, this page">{number:,}</a></li>'
            )
        else:
            links.append(
                f'<li><a href="{start}{number}" aria-label="Page {number}">{number:,}</a></li>'
            )
    if page.has_next():
        number = page.next_page_number()
        links.append(f'<li><a href="{start}{number}" rel="next">Next →</a></li>')
    return mark_safe(
        '<nav class="pagination" aria-label="Pages"><ul>' + "".join(links) + "</ul></nav>"
    )
