import logging

from django.conf import settings
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from listings.models import Band, Listing

HOME_ITEMS = 8

logger = logging.getLogger(__name__)


def paginate(request, queryset):
    """One page of `queryset`; odd ?page= values (abc, -1, 99999) fall back to a real page."""
    return Paginator(queryset, settings.MERCHEX_PAGE_SIZE).get_page(request.GET.get("page"))


def home(request):
    context = {
        "bands": Band.objects.active().only("name", "genre")[:HOME_ITEMS],
        "listings": Listing.objects.available().with_band()[:HOME_ITEMS],
    }
    return render(request, "listings/home.html", context)


def band_list(request):
    bands = Band.objects.only("name", "genre", "year_formed", "active")
    return render(request, "listings/band_list.html", {"page_obj": paginate(request, bands)})


def band_detail(request, band_id):
    band = get_object_or_404(Band, pk=band_id)
    listings = band.listings.only(*Listing.CARD_FIELDS)
    context = {"band": band, "page_obj": paginate(request, listings)}
    return render(request, "listings/band_detail.html", context)


def listing_list(request):
    listings = Listing.objects.with_band()
    return render(request, "listings/listing_list.html", {"page_obj": paginate(request, listings)})


def listing_detail(request, listing_id):
    listing = get_object_or_404(Listing.objects.select_related("band"), pk=listing_id)
    return render(request, "listings/listing_detail.html", {"listing": listing})


@never_cache
def healthz(request):
    """For load balancers and uptime checks: 200 when the database answers, 503 when not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.error("healthz: database unavailable: %s", exc.__class__.__name__)
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
