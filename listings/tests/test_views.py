import re

import pytest
from django.urls import reverse

from listings.models import Listing
from listings.tests.factories import BandFactory, ListingFactory, share_pictures

pytestmark = pytest.mark.django_db


def test_home_leads_to_bands_and_recent_listings(client, band, listing):
    response = client.get("/")
    assert response.status_code == 200
    assert band.get_absolute_url() in response.text
    assert listing.get_absolute_url() in response.text
    assert reverse("listings:band-list") in response.text
    assert reverse("listings:listing-list") in response.text


def test_band_list_shows_bands(client, band):
    response = client.get("/bands/")
    assert response.status_code == 200
    assert "De La Soul" in response.text


def test_band_page_shows_only_that_bands_listings(client, band, listing):
    other = ListingFactory(
        title="Foo Fighters single poster", band=BandFactory(name="Foo Fighters")
    )
    response = client.get(band.get_absolute_url())
    assert response.status_code == 200
    assert "De La Soul tour poster" in response.text
    assert listing.get_absolute_url() in response.text
    assert other.title not in response.text


def test_band_page_lists_available_items_before_sold_ones(client, band):
    ListingFactory(title="Sold vinyl", band=band, sold=True)
    ListingFactory(title="Available hoodie", band=band)
    text = client.get(band.get_absolute_url()).text
    assert text.index("Available hoodie") < text.index("Sold vinyl")
    assert "Sold out" in text


def test_band_page_says_a_band_split_up_in_fans_words(client):
    band = BandFactory(active=False)
    page = client.get(band.get_absolute_url()).text
    assert "Split up" in page
    assert "Inactive" not in page


def test_listing_list_links_each_listing_to_its_band(client, band, listing):
    response = client.get("/listings/")
    assert response.status_code == 200
    assert f'<a href="{band.get_absolute_url()}">De La Soul</a>' in response.text


def test_merch_without_a_band_shows_no_staff_words(client):
    ListingFactory(title="Festival lanyard", band=None)
    response = client.get("/listings/")
    assert "Festival lanyard" in response.text
    assert "No band" not in response.text


def test_listing_page_links_back_to_its_band(client, band, listing):
    response = client.get(listing.get_absolute_url())
    assert response.status_code == 200
    assert "De La Soul tour poster" in response.text
    assert band.get_absolute_url() in response.text


def test_orphan_listing_page_leads_back_to_all_merch(client):
    orphan = ListingFactory(band=None)
    response = client.get(orphan.get_absolute_url())
    assert response.status_code == 200
    assert "No band" not in response.text
    assert "← All merch" in response.text


def test_a_card_is_one_link_picture_and_title(client, band):
    listing = ListingFactory(band=band)
    page = client.get("/listings/").text
    link = f'<a class="card-link" href="{listing.get_absolute_url()}">'
    assert link in page
    card = page.split(link, 1)[1].split("</a>", 1)[0]
    assert "card-img" in card
    assert f"{listing.title}</h2>" in card


@pytest.mark.parametrize("path", ["/bands/999999/", "/listings/999999/", "/no-such-page/"])
def test_unknown_pages_get_the_sites_own_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert 'class="site-header"' in response.text


@pytest.mark.parametrize(
    "page", ["abc", "-1", "0", "01", "001", " 1", "\u0662", "\u00b2", "99999", "1.5"]
)
@pytest.mark.parametrize("path", ["/bands/", "/listings/", "/sitemap-listings.xml"])
def test_a_page_number_that_is_no_real_page_is_a_404(client, make_catalogue, path, page):
    """Only the one way of writing each real page number keys a page: 01, ٢ or 99999 would
    each render (and be cached) afresh."""
    make_catalogue(bands=30, per_band=1)
    name = "p" if path.startswith("/sitemap") else "page"
    assert client.get(path, {name: page}).status_code == 404
    assert client.get(path, {name: "1"}).status_code == 200


@pytest.mark.parametrize("path", ["/bands/", "/listings/"])
def test_an_empty_page_number_is_the_first_page(client, make_catalogue, path):
    make_catalogue(bands=30, per_band=1)
    response = client.get(path, {"page": ""})
    assert response.status_code == 200
    assert response.context["page_obj"].number == 1


def test_page_numbers_on_a_band_page(client, band):
    ListingFactory.create_batch(30, band=band)
    assert client.get(band.get_absolute_url(), {"page": "2"}).status_code == 200
    for page in ["abc", "-1", "99999"]:
        assert client.get(band.get_absolute_url(), {"page": page}).status_code == 404


def test_pagination_splits_and_links_pages(client, settings, band):
    settings.MERCHEX_PAGE_SIZE = 5
    ListingFactory.create_batch(12, band=band)
    first = client.get(band.get_absolute_url())
    assert len(first.context["page_obj"]) == 5
    assert "12 items, 1–5 shown" in first.text
    assert 'href="?page=2"' in first.text
    assert 'aria-current="page" aria-label="Page 1, this page"' in first.text
    last = client.get(band.get_absolute_url(), {"page": 3})
    assert len(last.context["page_obj"]) == 2
    assert 'href="?page=2"' in last.text


def test_long_lists_link_the_first_the_last_and_the_pages_around(client, settings):
    settings.MERCHEX_PAGE_SIZE = 2
    ListingFactory.create_batch(200, band=None)
    page = client.get("/listings/", {"page": 50}).text
    numbers = re.findall(r'aria-label="Page (\d+)', page)
    assert numbers == ["1", "48", "49", "50", "51", "52", "100"]
    assert page.count('<span class="gap">…</span>') == 2
    assert "200 items, 99–100 shown" in page


@pytest.mark.parametrize(
    ("query", "heading"),
    [
        ({}, "All merch"),
        ({"type": "Records"}, "Records"),
        ({"available": "on"}, "Available merch"),
        (
            {"type": "Posters", "genre": "HH", "available": "on"},
            "Available posters from Hip Hop bands",
        ),
        ({"genre": "HH"}, "All merch from Hip Hop bands"),
        ({"type": "Misc"}, "Other merch"),
        ({"type": "nonsense"}, "All merch"),
    ],
)
def test_a_filtered_shop_list_says_what_it_shows(client, query, heading):
    ListingFactory(band=BandFactory(genre="HH"), type="Posters")  # a genre with merch
    page = client.get("/listings/", query).text
    assert f"<h1>{heading}</h1>" in page
    assert f"<title>{heading} · merchex</title>" in page


def test_user_text_is_escaped(client):
    band = BandFactory(name="<script>alert('band')</script>", biography="<b>bold</b>")
    listing = ListingFactory(band=band, title="<img src=x onerror=alert(1)>")
    for url in ["/", "/bands/", band.get_absolute_url(), "/listings/", listing.get_absolute_url()]:
        text = client.get(url).text
        assert "<script>alert" not in text
        assert "<img src=x" not in text
        assert "<b>bold</b>" not in text
    assert "&lt;script&gt;" in client.get(band.get_absolute_url()).text


# Query budgets: each page runs the same few queries whatever the amount of data (rendered;
# a page served from the cache runs none).
PAGE_QUERIES = {
    "/": 2,  # bands (featured first), listings (featured first, then the newest)
    "/bands/": 2,  # count, page
    "band": 3,  # band, count, page of its listings
    "/listings/": 3,  # count, page (band and picture joined in), genres with merch
    "listing": 4,  # listing with its band, its pictures, its options (held units), shipping
    "/search/?q=band": 4,  # bands, counts, ids, cards
    "/listings/?type=Clothing&genre=AR&sort=price": 3,  # count, page, genres with merch
}


@pytest.mark.parametrize(("bands", "per_band"), [(3, 2), (40, 30)])
@pytest.mark.parametrize("page_name", list(PAGE_QUERIES))
def test_page_query_count_does_not_grow_with_data(
    client, make_catalogue, django_assert_num_queries, bands, per_band, page_name
):
    made = make_catalogue(bands=bands, per_band=per_band)
    share_pictures(list(Listing.objects.all()), made)  # a picture on every card and band
    url = {
        "band": made[0].get_absolute_url(),
        "listing": made[0].listings.first().get_absolute_url(),
    }
    with django_assert_num_queries(PAGE_QUERIES[page_name]):
        response = client.get(url.get(page_name, page_name))
    assert response.status_code == 200
    if page_name != "/bands/":
        assert "<picture>" in response.text


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"])
def test_fan_pages_answer_405_to_anything_but_get_and_head(client, band, method):
    for url in ["/", band.get_absolute_url(), "/listings/", "/sitemap.xml"]:
        response = client.generic(method, url)
        assert response.status_code == 405, url
        assert response["Allow"] == "GET, HEAD"
    assert client.head(band.get_absolute_url()).status_code == 200
