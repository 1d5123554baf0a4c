"""Fan pages come from the cache, and are never stale: every kind of change shows at once."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.paginator import Paginator
from django.db import connection
from django.urls import reverse

from listings.caching import CappedCountPaginator, FlatPaginator
from listings.forms import ShopFilterForm
from listings.models import Band, CatalogueVersion, Listing
from listings.tests.factories import BandFactory, ListingFactory

pytestmark = pytest.mark.django_db


def test_a_warm_page_costs_one_query(client, band, listing, django_assert_num_queries):
    first = client.get(band.get_absolute_url())
    with django_assert_num_queries(1):  # the catalogue version
        second = client.get(band.get_absolute_url())
    assert second.content == first.content


def test_with_the_page_cache_off_every_request_renders(
    client, settings, band, listing, django_assert_num_queries
):
    settings.MERCHEX_PAGE_CACHE = False  # the default with DJANGO_DEBUG
    client.get(band.get_absolute_url())
    with django_assert_num_queries(3):  # version, band, page (only the count is cached)
        response = client.get(band.get_absolute_url())
    assert listing.title in response.text
    assert "ETag" not in response


def test_the_next_page_reuses_the_cached_count(client, band, settings, django_assert_num_queries):
    settings.MERCHEX_PAGE_SIZE = 5
    ListingFactory.create_batch(12, band=band)
    client.get("/listings/")
    with django_assert_num_queries(2):  # version, page (the count is cached)
        response = client.get("/listings/", {"page": 2})
    assert response.context["page_obj"].paginator.count == 12


# Every way a band or a listing changes makes the affected pages fresh on the next request.


def change_band_in_admin_form(admin_client, band, listing):
    response = admin_client.post(
        reverse("admin:listings_band_change", args=[band.pk]),
        {
            "name": "Changed Name",
            "genre": band.genre,
            "year_formed": band.year_formed,
            "active": "on",
            "biography": "",
            "official_homepage": "",
            "listings-TOTAL_FORMS": 0,
            "listings-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    return "Changed Name"


def change_listing_inline(admin_client, band, listing):
    response = admin_client.post(
        reverse("admin:listings_band_change", args=[band.pk]),
        {
            "name": band.name,
            "genre": band.genre,
            "year_formed": band.year_formed,
            "active": "on",
            "listings-TOTAL_FORMS": 1,
            "listings-INITIAL_FORMS": 1,
            "listings-0-id": listing.pk,
            "listings-0-band": band.pk,
            "listings-0-title": "Changed Title",
            "listings-0-type": listing.type,
        },
    )
    assert response.status_code == 302
    return "Changed Title"


def mark_sold_in_bulk(admin_client, band, listing):
    admin_client.post(
        reverse("admin:listings_listing_changelist"),
        {"action": "mark_sold", "_selected_action": [listing.pk]},
    )
    return "Sold out"


def queryset_update(admin_client, band, listing):
    Listing.objects.filter(pk=listing.pk).update(title="Updated Title")
    return "Updated Title"


def raw_sql(admin_client, band, listing):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE listings_band SET name = %s WHERE id = %s", ["Raw Name", band.pk])
    return "Raw Name"


def demo_command(admin_client, band, listing):
    # Adds the seed's De La Soul merch to this band.
    call_command("loaddemo", verbosity=0, pictures=False)
    return "De La Soul hoodie"


def new_listing(admin_client, band, listing):
    ListingFactory(band=band, title="Brand New Item")
    return "Brand New Item"


ALL_PAGES = ["band", "/listings/", "/", "listing"]
CHANGES = {
    change_band_in_admin_form: ALL_PAGES,
    change_listing_inline: ALL_PAGES,
    mark_sold_in_bulk: ["band", "/listings/", "listing"],  # home shows available items only
    queryset_update: ALL_PAGES,
    raw_sql: ALL_PAGES,
    demo_command: ["band", "/listings/"],
    new_listing: ["band", "/listings/", "/"],
}


@pytest.mark.parametrize(
    ("change", "page_name"), [(change, name) for change, names in CHANGES.items() for name in names]
)
def test_every_change_shows_on_the_next_request(
    admin_client, client, band, listing, change, page_name
):
    urls = {"band": band.get_absolute_url(), "listing": listing.get_absolute_url()}
    url = urls.get(page_name, page_name)
    client.get(url)  # warm the cache
    expected = change(admin_client, band, listing)
    response = client.get(url, follow=True)  # a renamed item answers 301 to its new URL
    assert response.status_code == 200
    assert expected in response.text


def test_a_sold_item_leaves_the_home_page(client, listing):
    assert listing.title in client.get("/").text
    Listing.objects.filter(pk=listing.pk).update(sold=True)
    assert listing.title not in client.get("/").text


def test_a_deleted_band_page_is_gone_and_its_listing_kept(admin_client, client, band, listing):
    client.get(band.get_absolute_url())
    client.get(listing.get_absolute_url())
    response = admin_client.post(
        reverse("admin:listings_band_delete", args=[band.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert client.get(band.get_absolute_url()).status_code == 404
    page = client.get(listing.get_absolute_url())
    assert "No band" in page.text
    assert "More from De La Soul" not in page.text


def test_a_deleted_listing_is_gone(client, band, listing):
    url = listing.get_absolute_url()
    client.get(band.get_absolute_url())
    client.get(url)
    listing.delete()
    assert client.get(url).status_code == 404
    assert listing.title not in client.get(band.get_absolute_url()).text


# Conditional GETs


def test_unchanged_page_answers_304_to_a_conditional_get(client, band, django_assert_num_queries):
    response = client.get(band.get_absolute_url())
    etag, last_modified = response["ETag"], response["Last-Modified"]
    assert "no-cache" in response["Cache-Control"]
    with django_assert_num_queries(1):
        again = client.get(band.get_absolute_url(), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    since = client.get(band.get_absolute_url(), headers={"If-Modified-Since": last_modified})
    assert since.status_code == 304


def test_a_change_gives_a_new_etag_and_a_full_answer(client, band):
    etag = client.get(band.get_absolute_url())["ETag"]
    Band.objects.filter(pk=band.pk).update(biography="New biography")
    response = client.get(band.get_absolute_url(), headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert "New biography" in response.text


def test_every_write_bumps_the_version_once_or_more(band):
    before = CatalogueVersion.current()[0]
    Listing.objects.create(title="x", type="Misc")
    middle = CatalogueVersion.current()[0]
    Band.objects.all().delete()
    assert before < middle < CatalogueVersion.current()[0]


def test_a_lost_version_row_is_recreated_beyond_every_old_version(band):
    before = CatalogueVersion.current()[0]
    CatalogueVersion.objects.all().delete()
    assert CatalogueVersion.current()[0] > before
    after = CatalogueVersion.current()[0]
    Band.objects.filter(pk=band.pk).update(name="Bumped")
    assert CatalogueVersion.current()[0] > after


def test_restart_moves_the_version_past_every_earlier_one(client, band):
    etag = client.get(band.get_absolute_url())["ETag"]
    before = CatalogueVersion.current()[0]
    CatalogueVersion.objects.update(version=before - 1000)  # as a restored backup would
    CatalogueVersion.restart()
    assert CatalogueVersion.current()[0] > before
    assert client.get(band.get_absolute_url())["ETag"] != etag


# Real shared caches: Redis, and the default (files) across processes.


def test_pages_are_fresh_with_redis(client, settings, redis_url, band, listing):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    from django.core.cache import cache

    cache.clear()
    first = client.get(band.get_absolute_url())
    assert client.get(band.get_absolute_url()).content == first.content
    Band.objects.filter(pk=band.pk).update(name="Redis Fresh")
    assert "Redis Fresh" in client.get(band.get_absolute_url(), follow=True).text


PROBE = """
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from listings.models import Band
url = Band.objects.get().get_absolute_url()
with CaptureQueriesContext(connection) as queries:
    response = Client().get(url, secure=True, follow=True)
name = response.content.decode().split("<h1>")[1].split("</h1>")[0]
print(response.status_code, len(queries), name)
"""


@pytest.mark.parametrize("backend", ["default (files)", "redis"])
def test_a_change_in_one_process_is_fresh_in_every_other(manage, tmp_path, redis_url, backend):
    """Four processes, like gunicorn workers sharing one cache and one database."""
    cache_url = redis_url if backend == "redis" else f"filecache://{tmp_path / 'cache'}"
    env = {"CACHE_URL": cache_url, "DJANGO_STATIC_MANIFEST": "false"}
    manage("migrate", "--noinput", env=env, check=True)
    create = (
        "from listings.models import Band; "
        "Band.objects.create(name='Old Name', genre='RO', year_formed=1999)"
    )
    manage("shell", "--no-imports", "-c", create, env=env, check=True)

    def probe():
        return manage("shell", "--no-imports", "-c", PROBE, env=env, check=True).stdout.split()

    assert probe() == ["200", "3", "Old", "Name"]  # rendered: version, band, count (no merch)
    assert probe() == ["200", "1", "Old", "Name"]  # another process: from the shared cache
    rename = "from listings.models import Band; Band.objects.update(name='New Name')"
    manage("shell", "--no-imports", "-c", rename, env=env, check=True)
    assert probe()[2:] == ["New", "Name"]


def test_the_default_cache_is_shared_by_processes(manage):
    show = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    backend = manage("shell", "--no-imports", "-c", show, env={"CACHE_URL": None}, check=True)
    assert backend.stdout.strip() == "django.core.cache.backends.filebased.FileBasedCache"


# Response sizes do not grow with the data.


@pytest.mark.parametrize("page_name", ["band", "/listings/", "/bands/"])
def test_response_size_does_not_grow_with_the_data(client, page_name):
    sizes = []
    for n in (30, 300):
        Listing.objects.all().delete()
        Band.objects.all().delete()
        band = BandFactory(name="Sized Band")
        ListingFactory.create_batch(n, band=band, title="Same length title", price=Decimal("10"))
        BandFactory.create_batch(n)
        url = band.get_absolute_url() if page_name == "band" else page_name
        response = client.get(url)
        sizes.append(len(response.content))
    # Only ids, generated names and page counts differ: a few bytes, not ten times as many.
    assert abs(sizes[0] - sizes[1]) <= sizes[0] // 50
    assert max(sizes) < 25_000


# Paginators


@pytest.mark.parametrize("deferred_join_offset", [0, 1000])
@pytest.mark.parametrize("sort", list(ShopFilterForm.SORTS))
def test_flat_pages_match_plain_pagination_in_every_sort(sort, deferred_join_offset, monkeypatch):
    monkeypatch.setattr(FlatPaginator, "DEFERRED_JOIN_OFFSET", deferred_join_offset)
    for i in range(23):
        ListingFactory(
            band=None,
            title=f"Item {i % 7}",
            year=None if i % 4 == 0 else 2000 + i % 5,
            price=None if i % 3 == 0 else Decimal(i % 6),
            sold=i % 5 == 0,
        )
    listings = Listing.objects.order_by(*ShopFilterForm.SORTS[sort][1])
    plain, flat = Paginator(listings, 4), FlatPaginator(listings, 4, version=1)
    for number in plain.page_range:
        assert list(flat.page(number)) == list(plain.page(number)), number


def sorts_rows(queryset):
    """Whether the database sorts rows itself for `queryset` rather than reading an index in
    order. On PostgreSQL the planner is told to avoid sorting wherever an index can serve."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            return any("Sort" in row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return any("TEMP B-TREE" in row[-1] for row in cursor.fetchall())


@pytest.mark.parametrize("sort", list(ShopFilterForm.SORTS))
def test_every_order_of_the_shop_list_is_read_from_an_index(sort):
    ListingFactory.create_batch(5)
    assert sorts_rows(Listing.objects.order_by("description")[:20])  # no index: the check sees it
    listings = ShopFilterForm({"sort": sort}).filter(Listing.objects.with_band())
    assert not sorts_rows(listings[:20])
    assert not sorts_rows(listings.reverse()[:20])  # the back half of the list, read from the end
    assert not sorts_rows(listings.values("pk")[:20])  # the deferred join for deep pages


def test_admin_changelist_never_counts_past_the_cap(admin_client, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "CAP", 50)
    ListingFactory.create_batch(60, band=None)
    changelist = reverse("admin:listings_listing_changelist")
    response = admin_client.get(changelist)
    assert "50+ listings (search or filter to narrow the list)" in response.text
    assert "Select all 50+ listings" in response.text
    assert "50+ results" in response.text
    for capped_count in ["51 results", "Select all 51", "All 51"]:
        assert capped_count not in response.text  # never shown as a number of rows
    selected = admin_client.post(
        changelist,
        {"action": "mark_sold", "select_across": "1", "index": "0", "_selected_action": ["1"]},
        follow=True,
    )
    assert "60 listings marked as sold." in selected.text  # every row, not 50 or 51
    ListingFactory.create_batch(1, band=None)
    assert Listing.objects.filter(title__startswith="Listing").count() == 61
    filtered = admin_client.get(reverse("admin:listings_listing_changelist"), {"q": "zzz"})
    assert "0 listings" in filtered.text
