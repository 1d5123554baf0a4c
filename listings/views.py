import hashlib
import logging
import math

from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.core.paginator import EmptyPage, Paginator
from django.db import DatabaseError, connection
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from listings import search as searching
from listings.caching import BAND_LIST, FlatPaginator, band_key, fan_page, listing_key
from listings.forms import ContactForm, ListingFilterForm, ShopFilterForm, clean_text
from listings.limits import contact_retry_after
from listings.middleware import outage
from listings.models import Band, InfoPage, Listing, parse_id
from listings.origin import absolute_url
from orders.cart import selling

HOME_ITEMS = 8
HOME_DESCRIPTION = "Official merch from the bands you love: records, clothing, posters and more."
LIST_DESCRIPTION = "All official band merch on merchex: records, clothing, posters and more."
SEARCH_BANDS = 24
GENRE_COUNTS_TTL = 60  # seconds

logger = logging.getLogger(__name__)


def paginate(request, queryset):
    """One page of `queryset` (404 past the last page). Its count is cached with the page's
    versions (fan_page), under the path and every parameter but the page number."""
    versions = getattr(request, "versions", None)
    chosen = request.GET.copy()  # what picks the list: every parameter but the page number
    chosen.pop("page", None)
    count_key = versions and f"{request.path}?{chosen.urlencode()} {versions}"
    paginator = FlatPaginator(queryset, settings.MERCHEX_PAGE_SIZE, count_key=count_key)
    return numbered_page(request, paginator)


def numbered_page(request, paginator):
    """The requested page of `paginator`, with the numbers its links need. fan_page lets only
    a canonical number through; past the last page is a 404, as in Django's ListView."""
    try:
        page = paginator.page(request.GET.get("page", 1))
    except EmptyPage:
        raise Http404("No such page") from None
    page.linked_numbers = list(
        paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    )
    return page


def canonical_redirect(request, obj, slug):
    """A 301 to obj's canonical URL, keeping the query string, when `slug` is not current."""
    if slug == obj.slug:
        return None
    url = obj.get_absolute_url()
    if request.GET:
        url = f"{url}?{request.GET.urlencode()}"
    return redirect(url, permanent=True)


def list_page(request, title, description, shown=()):
    """Canonical URL and link-preview fields of a list page: its path and the parameters it
    uses (the page number, its filters), at the site's origin; its picture the first of
    `shown` (stored pictures), else the site's own."""
    query = request.GET.urlencode()
    return {
        "canonical_url": absolute_url(request, request.path + (f"?{query}" if query else "")),
        "og_title": title,
        "og_description": description,
        **share(request, next((picture for picture in shown if picture), None)),
    }


def share(request, shown):
    """og:image fields: a stored picture's largest rendition, or the site's share picture."""
    if shown:
        return {"share_picture": absolute_picture(request, shown), "og_image_alt": shown.alt}
    site = (absolute_url(request, static("img/share.png")), 1200, 630)
    return {"share_picture": site, "og_image_alt": "merchex: official band merch"}


def site_structured_data(request):
    """schema.org WebSite (with its search) and Organization, for the home page."""
    home = absolute_url(request, reverse("listings:home"))
    search = absolute_url(request, reverse("listings:search"))
    return [
        {
            "@context": "https://schema.org",
            "@type": "WebSite",
            "name": "merchex",
            "url": home,
            "potentialAction": {
                "@type": "SearchAction",
                "target": {"@type": "EntryPoint", "urlTemplate": f"{search}?q={{query}}"},
                "query-input": "required name=query",
            },
        },
        {
            "@context": "https://schema.org",
            "@type": "Organization",
            "name": "merchex",
            "url": home,
            "logo": absolute_url(request, static("img/share.png")),
        },
    ]


def shop_heading(form):
    """The shop list's heading, saying what it shows: "Available posters from Hip Hop bands"."""
    data = form.cleaned_data
    things = Listing.Type(data["type"]).label if data.get("type") else "merch"
    if data.get("type") == Listing.Type.MISC:
        things = "other merch"
    heading = f"Available {things.lower()}" if data.get("available") else f"All {things.lower()}"
    if data.get("type") and not data.get("available"):
        heading = things if things != "other merch" else "Other merch"
    if data.get("genre"):
        heading += f" from {Band.Genre(data['genre']).label} bands"
    return heading[0].upper() + heading[1:]


def crumbs(*trail):
    return [("Home", reverse("listings:home")), *trail]


def absolute_picture(request, shown):
    """(url, width, height) of a picture's largest JPEG rendition, as an absolute URL: for link
    previews (og:image) and structured data."""
    url, width, height = shown.largest
    return absolute_url(request, url), width, height


def band_structured_data(band, url, image=None):
    """schema.org MusicGroup for search engines (JSON-LD)."""
    data = {
        "@context": "https://schema.org",
        "@type": "MusicGroup",
        "name": band.name,
        "url": url,
        "genre": band.get_genre_display(),
        "foundingDate": str(band.year_formed),
    }
    if band.biography:
        data["description"] = band.biography[:500]
    if band.official_homepage:
        data["sameAs"] = [band.official_homepage]
    if image:
        data["image"] = image
    return data


def listing_structured_data(listing, url, images=(), options=()):
    """schema.org Product with an Offer per option, or None without a price: a Product needs
    an offer to be valid for search engines, and "price on request" items have none."""
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": listing.title,
        "url": url,
        "category": listing.get_type_display(),
    }
    offers = [
        {
            "@type": "Offer",
            "url": url,
            "price": f"{option.unit_price:.2f}",
            "priceCurrency": settings.MERCHEX_CURRENCY,
            "availability": f"https://schema.org/{availability(listing, option)}",
            **({"name": option.name} if option.name else {}),
            **({"sku": option.sku} if option.sku else {}),
        }
        for option in options
        if option.unit_price is not None
    ]
    if not offers:
        return None
    data["offers"] = offers[0] if len(offers) == 1 else offers
    if listing.description:
        data["description"] = listing.description[:500]
    if listing.band:
        data["brand"] = {"@type": "Brand", "name": listing.band.name}
    if images:
        data["image"] = list(images)
    return data


def availability(listing, option):
    if listing.sold or option.left == 0:
        return "SoldOut"
    if option.left is not None and option.left <= settings.MERCHEX_FEW_LEFT:
        return "LimitedAvailability"
    return "InStock"


@fan_page()
def home(request):
    """What staff put forward first (featured bands and merch, in their order), then the
    bands from A and the newest merch, each read in an index's order."""
    bands = Band.objects.public().active().featured_first()[:HOME_ITEMS]
    for_sale = Listing.objects.public().available().with_band()
    rows = list(for_sale.featured_first()[:HOME_ITEMS])
    featured = [row for row in rows if row.featured_position is not None]
    newest = rows
    if featured:
        newest = for_sale.filter(featured_position__isnull=True)[:HOME_ITEMS]
    shown = [listing.shown_picture for listing in [*featured, *newest]]
    context = {
        "bands": bands,
        "hero": next((row for row in featured if row.shown_picture), None),  # staff's first
        "featured": featured,
        "listings": newest,
        "site_ld": site_structured_data(request),
        **list_page(request, "merchex: official band merch", HOME_DESCRIPTION, shown),
    }
    return render(request, "listings/home.html", context)


@fan_page(depends_on=lambda kwargs: [BAND_LIST], parameters=["page"])
def band_list(request):
    bands = Band.objects.public().only(
        "name",
        "genre",
        "year_formed",
        "active",
        "picture",
        "picture_width",
        "picture_height",
        "picture_alt",
    )
    context = {
        "page_obj": paginate(request, bands),
        "breadcrumbs": crumbs(("Bands", None)),
        **list_page(request, "Bands on merchex", "Every band with official merch on merchex."),
    }
    return render(request, "listings/band_list.html", context)


@fan_page(
    depends_on=lambda kwargs: [band_key(kwargs["band_id"])],
    parameters=[*ListingFilterForm.base_fields, "page"],
)
def band_detail(request, band_id, slug=None):
    band = get_object_or_404(Band, pk=band_id)
    if not (band.published or request.preview):
        raise Http404("A draft")
    if response := canonical_redirect(request, band, slug):
        return response
    form = ListingFilterForm(request.GET)
    listings = form.filter(Listing.objects.for_cards().filter(band=band, published=True))
    url = absolute_url(request, band.get_absolute_url())
    shown = band.shown_picture
    share = absolute_picture(request, shown) if shown else None
    query = request.GET.urlencode()  # page N and filters: each its own canonical page
    context = {
        "band": band,
        "form": form,
        "page_obj": paginate(request, listings),
        "canonical_url": f"{url}?{query}" if query else url,
        "og_type": "music.musician",
        "og_title": f"{band.name} merch",
        "og_description": f"Official {band.name} merch on merchex.",
        "og_image_alt": band.picture_alt,
        "share_picture": share,
        "band_ld": band_structured_data(band, url, share[0] if share else None),
        "draft": "" if band.published else "page",
        "breadcrumbs": crumbs(("Bands", reverse("listings:band-list")), (band.name, None)),
    }
    return render(request, "listings/band_detail.html", context)


def genres_with_merch():
    """[(genre, listings)] of the genres whose bands have merch on show, A to Z: the genre
    filter offers no empty page. Counted at most once a minute (a GROUP BY of the whole
    catalogue: a catalogue busy with writes would count it for every list it renders)."""

    def count():
        rows = Listing.objects.public().exclude(band=None).values_list("band__genre")
        rows = rows.annotate(listings=Count("pk")).order_by()
        labels = dict(Band.Genre.choices)
        return sorted(rows, key=lambda row: labels.get(row[0], row[0]))

    return cache.get_or_set("genres-with-merch", count, GENRE_COUNTS_TTL)


@fan_page(parameters=[*ShopFilterForm.base_fields, "page"])
def listing_list(request):
    form = ShopFilterForm(request.GET, genres=genres_with_merch())
    listings = form.filter(Listing.objects.public().with_band())
    page = paginate(request, listings)
    heading = shop_heading(form)
    context = {
        "form": form,
        "page_obj": page,
        "breadcrumbs": crumbs(("Merch", None)),
        "heading": heading,
        **list_page(
            request,
            f"{heading} on merchex",  # what the filters show, as the heading says
            LIST_DESCRIPTION,
            [listing.shown_picture for listing in page],
        ),
    }
    return render(request, "listings/listing_list.html", context)


@fan_page(depends_on=lambda kwargs: [listing_key(kwargs["listing_id"])])
def listing_detail(request, listing_id, slug=None):
    listing = get_object_or_404(Listing.objects.select_related("band"), pk=listing_id)
    if not (listing.is_public or request.preview):
        raise Http404("A draft")
    if response := canonical_redirect(request, listing, slug):
        return response
    photos = [photo.shown_picture for photo in listing.photos.all()]
    trail = [("Merch", reverse("listings:listing-list"))]
    if listing.band:
        band = listing.band
        trail = [("Bands", reverse("listings:band-list")), (band.name, band.get_absolute_url())]
    url = absolute_url(request, listing.get_absolute_url())
    shared = [absolute_picture(request, shown) for shown in photos]
    sale = selling(listing)
    context = {
        "listing": listing,
        **sale,
        "photos": photos,
        "canonical_url": url,
        "og_type": "product",
        "og_title": listing.title,
        "og_description": Truncator(listing.description or listing.get_type_display()).chars(200),
        "og_image_alt": photos[0].alt if photos else "",
        "share_picture": shared[0] if shared else None,
        "listing_ld": listing_structured_data(
            listing, url, [image[0] for image in shared], sale["options"]
        ),
        "draft": "" if listing.is_public else ("page" if not listing.published else "band"),
        "breadcrumbs": crumbs(*trail, (listing.title, None)),
    }
    return render(request, "listings/listing_detail.html", context)


@fan_page(parameters=["q", "page"])
def search(request):
    """Bands the query names, then the merch matching every word of it (listings.search)."""
    text = clean_text(request.GET.get("q", ""))[: searching.MAX_QUERY_LENGTH]
    query = searching.parse(text)
    context = {
        "query": text,
        "breadcrumbs": crumbs(("Search", None)),
        "too_short": bool(text) and query is None,
    }
    if query is not None:
        bands = searching.bands_named(query, SEARCH_BANDS)
        context["bands"], context["more_bands"] = bands[:SEARCH_BANDS], len(bands) > SEARCH_BANDS
        versions = getattr(request, "versions", None)  # counts and suggestions kept with them
        digest = hashlib.sha256(repr(query.words).encode()).hexdigest()
        key = versions and f"search:{digest}:{versions}"
        results = searching.Results(query, count_key=key)
        context["page_obj"] = numbered_page(request, Paginator(results, settings.MERCHEX_PAGE_SIZE))
        context["cut"] = len(searching.words(text, limit=None)) > searching.MAX_WORDS
        if not bands:
            context["suggestions"] = searching.suggested_bands(
                query, cache_key=key and f"{key}:suggestions"
            )
    return render(request, "listings/search.html", context)


@require_safe
def info_page(request, slug):
    """A page of shop information (listings.info_pages). Not in the page cache: one query, and
    always the text staff saved last."""
    page = get_object_or_404(InfoPage, slug=slug)
    context = {
        "page": page,
        "canonical_url": absolute_url(request, page.get_absolute_url()),
        "og_title": page.title,
        "og_description": page.summary,
        "breadcrumbs": crumbs((page.title, None)),
    }
    return render(request, "listings/info_page.html", context)


def contact(request):
    status = 200
    retry_after = None
    if request.method == "POST":
        form = ContactForm(request.POST)
        if form.is_valid():
            if form.is_spam():
                logger.info("contact: honeypot filled, message dropped")
                return redirect("listings:contact-thanks")
            retry_after = contact_retry_after(request)
            if retry_after is None:
                form.send(request)
                return redirect("listings:contact-thanks")
            logger.warning("contact: rate limit reached, message not sent")
            status = 429
        about = form.cleaned_data.get("listing")
    else:
        listing_id = parse_id(request.GET.get("listing"))
        about = Listing.objects.public().filter(pk=listing_id).first() if listing_id else None
        form = ContactForm(initial={"listing": about})
    context = {
        "form": form,
        "about": about,
        "retry_minutes": math.ceil(retry_after / 60) if retry_after else None,
        "breadcrumbs": crumbs(("Contact", None)),
        **list_page(
            request, "Contact the shop", "Questions about an item or an order? Write to us."
        ),
        "canonical_url": absolute_url(request, reverse("listings:contact")),
    }
    response = render(request, "listings/contact.html", context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def contact_thanks(request):
    context = {"breadcrumbs": crumbs(("Contact", reverse("listings:contact")), ("Thank you", None))}
    return render(request, "listings/contact_thanks.html", context)


def bad_request(request, exception):
    """The site's own 400 page. Unlike Django's default it reads nothing from the request body,
    which may be what was malformed (Django's checks its CSRF token, parsing the body again)."""
    return render(request, "400.html", status=400)


def permission_denied(request, exception):
    return render(request, "403.html", status=403)


def locked_out(request, response, credentials):
    """django-axes' answer to a locked-out sign-in: the admin's own page, with how long."""
    cool_off = get_cool_off(request)
    context = {
        **admin.site.each_context(request),
        "title": "Sign-in temporarily locked",
        "username": get_client_username(request, credentials) or "",
        "minutes": round(cool_off.total_seconds() / 60) if cool_off else None,
    }
    locked = render(request, "admin/locked_out.html", context, status=429)
    if cool_off:
        locked["Retry-After"] = str(int(cool_off.total_seconds()))
    return locked


def csrf_failure(request, reason=""):
    """A form posted without a valid security token (an expired page, cookies blocked)."""
    logger.info("csrf: %s %s: %s", request.method, request.path, reason)
    return render(request, "403_csrf.html", status=403)


@require_GET
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /search/",
        f"Sitemap: {absolute_url(request, reverse('sitemap-index'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


@never_cache
def healthz(request):
    """For load balancers and uptime checks: 200 when the database answers, 503 when not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        outage.failed(exc)  # logged once per outage, not once per probe
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    outage.answered()
    return HttpResponse("ok\n", content_type="text/plain")
