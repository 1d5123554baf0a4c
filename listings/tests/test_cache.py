"""Fan pages come from the cache, and are never stale: every change made through merchex shows
on the next request; one made outside it within MERCHEX_PAGE_TTL, or at once after clearpages."""

import json
import time
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from listings.caching import CappedCountPaginator, FlatPaginator
from listings.forms import ShopFilterForm
from listings.models import Band, Listing, ListingPhoto, pages_changed
from listings.tests.factories import BandFactory, ListingFactory
from listings.views import HOME_ITEMS
from merchex.cache import DiskCache

pytestmark = pytest.mark.django_db


def test_a_warm_page_needs_no_database(client, band, listing, django_assert_num_queries):
    first = client.get(band.get_absolute_url())
    with django_assert_num_queries(0):  # versions and page, all from the cache
        second = client.get(band.get_absolute_url())
    assert second.content == first.content
    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "hit")


def test_with_the_page_cache_off_every_request_renders(
    client, settings, band, listing, django_assert_num_queries
):
    settings.MERCHEX_PAGE_CACHE = False  # the default with DJANGO_DEBUG
    client.get(band.get_absolute_url())
    with django_assert_num_queries(2):  # the band, its page of merch (the count is cached)
        response = client.get(band.get_absolute_url())
    assert listing.title in response.text
    assert "ETag" not in response


def test_the_next_page_reuses_the_cached_count(client, band, settings, django_assert_num_queries):
    settings.MERCHEX_PAGE_SIZE = 5
    ListingFactory.create_batch(12, band=band)
    client.get("/listings/")
    with django_assert_num_queries(1):  # the page (the count is cached)
        response = client.get("/listings/", {"page": 2})
    assert response.context["page_obj"].paginator.count == 12


# What a cached copy is found by: the path and the parameters the page uses; not the Host.


def test_parameters_a_page_does_not_use_find_the_same_copy(
    client, band, listing, django_assert_num_queries
):
    first = client.get("/listings/?type=Posters&sort=title")
    for url in [
        "/listings/?type=Posters&sort=title&utm_source=newsletter",
        "/listings/?sort=title&fbclid=1&type=Posters",  # another order, the same filters
    ]:
        with django_assert_num_queries(0):  # the one cached copy
            response = client.get(url)
        assert response.content == first.content
    assert "utm_source" not in client.get("/listings/?utm_source=x&page=1").text


def test_a_query_reads_as_django_reads_it_whatever_the_cache_has_kept(client, band, listing):
    listing.title = "Café Tee"
    listing.save()
    # Percent-encoded UTF-8, and raw UTF-8 bytes as a client may send them: both say "café".
    for query in ["q=caf%C3%A9", "q=caf\u00c3\u00a9"]:
        for _ in range(2):  # rendered, then from the cache: the same page
            response = client.get("/search/", QUERY_STRING=query)
            assert response.status_code == 200
            assert "Café Tee" in response.text
            assert 'value="café"' in response.text


def test_a_page_from_the_cache_carries_the_headers_of_the_one_rendered(client, band):
    url = band.get_absolute_url()
    rendered = client.get(url)
    cached = client.get(url)
    not_modified = client.get(url, headers={"If-None-Match": cached["ETag"]})
    served = (rendered["X-Cache"], cached["X-Cache"], not_modified.status_code)
    assert served == ("miss", "hit", 304)
    for header in ["Cache-Control", "ETag", "Last-Modified"]:
        assert rendered[header] == cached[header] == not_modified[header], header
    assert rendered["Cache-Control"] == "public, no-cache"


def test_sitemaps_ignore_unknown_parameters_and_hosts(client, settings, listing):
    settings.MERCHEX_ORIGIN = "https://merch.example.com"
    first = client.get("/sitemap-listings.xml")
    with CaptureQueriesContext(connection) as queries:
        for query, port in [("utm=1", 8000), ("utm=2", 81)]:
            response = client.get(
                f"/sitemap-listings.xml?{query}", headers={"host": f"127.0.0.1:{port}"}
            )
            assert response.content == first.content
    assert len(queries) == 0  # the one cached copy, no render


def test_every_absolute_url_is_at_the_canonical_origin(client, settings, mailoutbox, band, listing):
    settings.MERCHEX_ORIGIN = "https://merch.example.com"
    at = "https://merch.example.com"
    host = {"host": "localhost:9999"}  # allowed host, any port
    band_page = client.get(band.get_absolute_url(), headers=host).text
    assert f'<link rel="canonical" href="{at}{band.get_absolute_url()}">' in band_page
    assert f'"url": "{at}{band.get_absolute_url()}"' in band_page
    listing_page = client.get(listing.get_absolute_url(), headers=host).text
    assert f'<meta property="og:url" content="{at}{listing.get_absolute_url()}">' in listing_page
    robots = client.get("/robots.txt", headers=host).text
    assert f"Sitemap: {at}/sitemap.xml" in robots
    index = client.get("/sitemap.xml", headers=host).text
    assert f"<loc>{at}/sitemap-listings.xml</loc>" in index
    sitemap = client.get("/sitemap-listings.xml", headers=host).text
    assert f"<loc>{at}{listing.get_absolute_url()}</loc>" in sitemap
    client.post(
        "/contact/",
        {"name": "Ada", "email": "ada@example.com", "message": "Hi", "listing": listing.pk},
        headers=host,
    )
    assert f"({at}{listing.get_absolute_url()})" in mailoutbox[0].body
    assert "localhost" not in band_page + listing_page + robots + index + sitemap


def test_without_an_origin_each_host_gets_its_own_links(client, settings, band):
    settings.MERCHEX_ORIGIN = ""
    url = band.get_absolute_url()
    for host in ["localhost:9999", "127.0.0.1:8000", "localhost:9999"]:
        page = client.get(url, headers={"host": host}).text
        assert f'<link rel="canonical" href="http://{host}{url}">' in page


def test_the_default_cache_evicts_beyond_its_size_limit(tmp_path):
    """Pages of old versions are never deleted one by one: the size limit evicts them."""
    limit = 2 * 2**20
    cache = DiskCache(str(tmp_path), {"OPTIONS": {"size_limit": limit}, "SHARDS": 1})
    page = (200, "text/html", b"x" * 50_000)
    for version in range(200):  # 10 MB of pages, as 200 versions of one page would be
        cache.set(f"page:{version}", page, 3600)
    assert cache.get("page:199") == page
    assert cache.get("page:0") is None
    assert cache._cache.volume() < 2 * limit  # culled as it goes, ten entries per write


# Every way a band or a listing changes makes the affected pages fresh on the next request.


def change_band_in_admin_form(admin_client, band, listing):
    response = admin_client.post(
        reverse("admin:listings_band_change", args=[band.pk]),
        {
            "name": "Changed Name",
            "genre": band.genre,
            "year_formed": band.year_formed,
            "active": "on",
            "published": "on",
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
            "published": "on",
            "listings-TOTAL_FORMS": 1,
            "listings-INITIAL_FORMS": 1,
            "listings-0-id": listing.pk,
            "listings-0-band": band.pk,
            "listings-0-title": "Changed Title",
            "listings-0-type": listing.type,
            "listings-0-published": "on",
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


def unpublish_band_in_bulk(admin_client, band, listing):
    admin_client.post(
        reverse("admin:listings_band_changelist"),
        {"action": "unpublish", "_selected_action": [band.pk]},
    )
    return f'!href="{band.get_absolute_url()}"'  # a draft: no link to it


def queryset_update(admin_client, band, listing):
    Listing.objects.filter(pk=listing.pk).update(title="Updated Title")
    pages_changed(Listing, [listing.pk])  # as every update() of ours does
    return "Updated Title"


def delete_band(admin_client, band, listing):
    link = f'href="{band.get_absolute_url()}"'
    admin_client.post(reverse("admin:listings_band_delete", args=[band.pk]), {"post": "yes"})
    return f"!{link}"  # no link to the band any more


def import_rows(admin_client, band, listing):
    from listings.tests.test_imports import confirm, csv_file, preview

    rows = [[listing.pk, "Imported Title", band.name, listing.type, "", "", "no", "yes", ""]]
    confirm(admin_client, preview(admin_client, csv_file(rows)))
    return "Imported Title"


def demo_command(admin_client, band, listing):
    # Adds the seed's De La Soul merch to this band.
    call_command("loaddemo", verbosity=0, pictures=False)
    return "De La Soul hoodie"


def new_listing(admin_client, band, listing):
    ListingFactory(band=band, title="Brand New Item")
    return "Brand New Item"


def add_photo(admin_client, band, listing):
    photo = ListingPhoto(listing=listing, alt_text="Front of the tour poster")
    photo.image.name, photo.image_width, photo.image_height = "photos/front.jpg", 800, 600
    photo.save()
    return "/media/photos/front-320.webp"  # its picture, on cards and on the item's page


def loaddata(admin_client, band, listing, tmp_path):
    fixture = tmp_path / "listing.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "listings.listing",
                    "pk": listing.pk,
                    "fields": {
                        "title": "Loaded Title",
                        "type": listing.type,
                        "band": band.pk,
                        "created_at": "2026-01-01T00:00:00Z",
                        "updated_at": "2026-01-01T00:00:00Z",
                    },
                }
            ]
        )
    )
    call_command("loaddata", str(fixture), verbosity=0)
    return "Loaded Title"


ALL_PAGES = ["band", "/listings/", "/", "listing"]
CHANGES = {
    change_band_in_admin_form: [*ALL_PAGES, "/bands/"],
    change_listing_inline: ALL_PAGES,
    mark_sold_in_bulk: ["band", "/listings/", "listing"],  # home shows available items only
    unpublish_band_in_bulk: ["/bands/", "/listings/"],
    queryset_update: ALL_PAGES,
    demo_command: ["band", "/listings/"],
    new_listing: ["band", "/listings/", "/"],
    add_photo: ["band", "/listings/", "/", "listing"],
    loaddata: ALL_PAGES,
    delete_band: ["listing", "/listings/", "/bands/"],
    import_rows: ALL_PAGES,
}


@pytest.mark.parametrize(
    ("change", "page_name"), [(change, name) for change, names in CHANGES.items() for name in names]
)
def test_every_change_shows_on_the_next_request(
    admin_client, client, band, listing, change, page_name, tmp_path
):
    urls = {"band": band.get_absolute_url(), "listing": listing.get_absolute_url()}
    url = urls.get(page_name, page_name)
    client.get(url)  # warm the cache
    extra = [tmp_path] if change is loaddata else []
    expected = change(admin_client, band, listing, *extra)
    response = client.get(url, follow=True)  # a renamed item answers 301 to its new URL
    assert response.status_code == 200
    if expected.startswith("!"):  # what must be gone
        assert expected[1:] not in response.text
    else:
        assert expected in response.text


# A change re-renders the pages it can affect, and only those.


def warm(client, urls):
    for url in urls:
        assert client.get(url).status_code == 200


def rendered(client, urls):
    """Which of `urls` were rendered again (served with any query)."""
    again = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        if queries:
            again.append(url)
    return again


@pytest.fixture
def other_band():
    band = BandFactory(name="Other Band")
    ListingFactory(band=band, title="Other poster")
    return band


def test_a_listing_change_re_renders_its_page_its_band_and_the_lists_of_merch(
    client, band, listing, other_band
):
    other_listing = other_band.listings.get()
    urls = [
        band.get_absolute_url(),
        listing.get_absolute_url(),
        "/",
        "/listings/",
        "/search/?q=poster",  # the lists of merch are under the catalogue's version
        "/bands/",  # the band list shows no listing
        other_band.get_absolute_url(),
        other_listing.get_absolute_url(),
    ]
    warm(client, urls)
    listing.price = Decimal("12.00")
    listing.save()
    assert rendered(client, urls) == urls[:5]


def test_a_band_change_re_renders_its_page_its_listings_pages_and_the_lists(
    client, band, listing, other_band
):
    other_listing = other_band.listings.get()
    urls = [
        band.get_absolute_url(),
        listing.get_absolute_url(),
        "/",
        "/listings/",
        "/bands/",
        other_band.get_absolute_url(),
        other_listing.get_absolute_url(),
    ]
    warm(client, urls)
    band.biography = "Changed"
    band.save()
    assert rendered(client, urls) == urls[:5]


def test_a_listing_moved_to_another_band_leaves_one_page_and_joins_the_other(
    client, band, listing, other_band
):
    warm(client, [band.get_absolute_url(), other_band.get_absolute_url()])
    listing = Listing.objects.get(pk=listing.pk)  # as the admin reads it
    listing.band = other_band
    listing.save()
    assert listing.title not in client.get(band.get_absolute_url()).text
    assert listing.title in client.get(other_band.get_absolute_url()).text
    assert "Other Band" in client.get(listing.get_absolute_url()).text


def test_a_photo_change_re_renders_its_listing_and_band_only(client, band, listing, other_band):
    urls = [band.get_absolute_url(), listing.get_absolute_url(), other_band.get_absolute_url()]
    add_photo(None, band, listing)
    warm(client, urls)
    photo = listing.photos.get()
    photo.alt_text = "Back of the tour poster"
    photo.save()
    assert rendered(client, urls) == urls[:2]
    assert "Back of the tour poster" in client.get(listing.get_absolute_url()).text


def test_a_write_made_outside_merchex_shows_after_clearpages(client, band, listing):
    url = band.get_absolute_url()
    warm(client, [url])
    with connection.cursor() as cursor:  # raw SQL, as a restored backup: no signal
        cursor.execute("UPDATE listings_band SET biography = %s WHERE id = %s", ["Raw", band.pk])
    assert "Raw" not in client.get(url).text  # until the TTL ends...
    call_command("clearpages", verbosity=0)
    assert "Raw" in client.get(url).text  # ...or the documented command runs


def test_a_card_is_kept_under_its_listings_version_as_the_list_renders_again(
    client, settings, band, listing
):
    settings.MERCHEX_PAGE_CACHE = False  # the list renders every time; its cards need not
    url = reverse("listings:listing-list")
    other = ListingFactory(band=band, title="Another item")
    assert listing.title in client.get(url).text
    Listing.objects.filter(pk=listing.pk).update(title="Renamed outside merchex")  # no signal
    other.title = "Another item, renamed"
    other.save()  # a write elsewhere, through merchex
    page = client.get(url).text
    assert "Another item, renamed" in page
    assert listing.title in page  # the unchanged card came from the cache
    listing.refresh_from_db()
    listing.save()  # through merchex: its version moves
    assert "Renamed outside merchex" in client.get(url).text
    settings.DEBUG = True  # development: templates change under a running server
    cache.clear()  # as when it starts
    client.get(url)
    Listing.objects.filter(pk=listing.pk).update(title="Edited with DEBUG on")
    assert "Edited with DEBUG on" in client.get(url).text


def test_a_write_made_outside_merchex_shows_within_the_ttl(client, settings, band):
    settings.MERCHEX_PAGE_TTL = 1
    url = band.get_absolute_url()
    warm(client, [url])
    Band.objects.filter(pk=band.pk).update(biography="Restored")  # no signal
    time.sleep(1.1)  # the TTL, not a speed: pages and versions have expired
    assert "Restored" in client.get(url).text


def test_a_count_follows_what_the_list_holds(client, band, listing, settings):
    settings.MERCHEX_PAGE_SIZE = 1
    ListingFactory(band=band, title="Second")
    response = client.get("/listings/?available=on")
    assert response.context["page_obj"].paginator.count == 2
    listing.sold = True
    listing.save()
    response = client.get("/listings/?available=on")
    assert response.context["page_obj"].paginator.count == 1


def test_a_sold_item_leaves_the_home_page(client, listing):
    assert listing.title in client.get("/").text
    listing.sold = True
    listing.save()
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
    assert "← All merch" in page.text
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
    with django_assert_num_queries(0):
        again = client.get(band.get_absolute_url(), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    since = client.get(band.get_absolute_url(), headers={"If-Modified-Since": last_modified})
    assert since.status_code == 304


def test_a_change_gives_a_new_etag_and_a_full_answer(client, band):
    etag = client.get(band.get_absolute_url())["ETag"]
    band.biography = "New biography"
    band.save()
    response = client.get(band.get_absolute_url(), headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert "New biography" in response.text


# Real shared caches: Redis, and the default (files) across processes.


def test_pages_are_fresh_with_redis(client, settings, redis_url, band, listing):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }

    cache.clear()
    first = client.get(band.get_absolute_url())
    assert client.get(band.get_absolute_url()).content == first.content
    band.name = "Redis Fresh"
    band.save()
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


@pytest.mark.parametrize("backend", ["default (diskcache)", "redis"])
def test_a_change_in_one_process_is_fresh_in_every_other(manage, tmp_path, redis_url, backend):
    """Four processes, like gunicorn workers sharing one cache and one database."""
    cache_url = redis_url if backend == "redis" else None
    env = {
        "CACHE_URL": cache_url,
        "MERCHEX_CACHE_DIR": str(tmp_path / "cache"),
        "DJANGO_STATIC_MANIFEST": "false",
    }
    manage("migrate", "--noinput", env=env, check=True)
    create = (
        "from listings.models import Band; "
        "Band.objects.create(name='Old Name', genre='RO', year_formed=1999)"
    )
    manage("shell", "--no-imports", "-c", create, env=env, check=True)

    def probe():
        return manage("shell", "--no-imports", "-c", PROBE, env=env, check=True).stdout.split()

    assert probe() == ["200", "2", "Old", "Name"]  # rendered: band, count (no merch)
    assert probe() == ["200", "0", "Old", "Name"]  # another process: from the shared cache
    rename = (
        "from listings.models import Band; band = Band.objects.get(); "
        "band.name = 'New Name'; band.save()"
    )
    manage("shell", "--no-imports", "-c", rename, env=env, check=True)
    assert probe()[2:] == ["New", "Name"]


def test_the_default_cache_is_shared_by_processes(manage):
    show = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    backend = manage("shell", "--no-imports", "-c", show, env={"CACHE_URL": None}, check=True)
    assert backend.stdout.strip() == "merchex.cache.DiskCache"


# Response sizes do not grow with the data.


@pytest.mark.parametrize("page_name", ["band", "/listings/", "/bands/"])
def test_response_size_does_not_grow_with_the_data(client, page_name):
    sizes = []
    for n in (60, 600):  # 3 and 30 pages: either way the first, a few, and the last linked
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
    plain, flat = Paginator(listings, 4), FlatPaginator(listings, 4, count_key="shop")
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


def test_the_home_pages_orders_are_read_from_an_index():
    ListingFactory.create_batch(5)
    assert not sorts_rows(Band.objects.public().active().featured_first()[:HOME_ITEMS])
    for_sale = Listing.objects.public().available().with_band()
    assert not sorts_rows(for_sale.featured_first()[:HOME_ITEMS])


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
