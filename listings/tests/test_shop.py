"""What fans do besides browsing: search, filter and sort, share links, write to the shop."""

import json
import re
from decimal import Decimal

import factory
import pytest

from listings.models import Listing
from listings.tests.factories import BandFactory, ListingFactory, VariantFactory

pytestmark = pytest.mark.django_db


def titles(response):
    return [listing.title for listing in response.context["page_obj"]]


# Search


def test_search_groups_bands_and_listings(client):
    bjork = BandFactory(name="Björk")
    ListingFactory(title="Homogenic vinyl", band=bjork)
    ListingFactory(title="Bjork-style tote", band=None)
    ListingFactory(title="Unrelated", band=BandFactory(name="Cut Copy"))
    response = client.get("/search/", {"q": "BJORK"})
    assert [band.name for band in response.context["bands"]] == ["Björk"]
    assert sorted(titles(response)) == ["Bjork-style tote", "Homogenic vinyl"]
    assert 'id="results-bands"' in response.text
    assert 'id="results-merch"' in response.text


def test_search_shows_at_most_24_bands_and_says_when_there_are_more(client):
    BandFactory.create_batch(25, name=factory.Sequence(lambda n: f"Soul Band {n}"))
    response = client.get("/search/", {"q": "soul band"})
    assert len(response.context["bands"]) == 24
    assert "More bands match: try a longer search." in response.text


def test_empty_search_says_so(client):
    response = client.get("/search/", {"q": "   "})
    assert response.status_code == 200
    assert "Type a band name or an item" in response.text


def test_search_without_results_says_so(client, band):
    response = client.get("/search/", {"q": "zzzz"})
    assert "No bands or merch match “zzzz”" in response.text


def test_search_query_is_escaped_and_kept_in_the_box(client):
    response = client.get("/search/", {"q": '<script>"x"'})
    assert "<script>&quot;x&quot;" not in response.text
    assert 'value="&lt;script&gt;&quot;x&quot;"' in response.text


def test_search_treats_like_wildcards_literally(client):
    ListingFactory(title="100% cotton tee", band=None)
    ListingFactory(title="Plain tee", band=None)
    assert titles(client.get("/search/", {"q": "100%"})) == ["100% cotton tee"]
    assert "Type at least two letters" in client.get("/search/", {"q": "_"}).text


# Filters and sorting on /listings/


def test_listing_filters_by_type_availability_and_genre(client):
    hip_hop = BandFactory(genre="HH")
    rock = BandFactory(genre="RO")
    ListingFactory(title="Wanted", band=hip_hop, type="Posters")
    ListingFactory(title="Sold poster", band=hip_hop, type="Posters", sold=True)
    ListingFactory(title="Hip hop tee", band=hip_hop, type="Clothing")
    ListingFactory(title="Rock poster", band=rock, type="Posters")
    response = client.get("/listings/", {"type": "Posters", "available": "on", "genre": "HH"})
    assert titles(response) == ["Wanted"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("title", ["A", "B", "C"]),
        ("price", ["B", "C", "A"]),
        ("price-desc", ["C", "B", "A"]),
        ("year", ["C", "A", "B"]),
        ("newest", ["C", "B", "A"]),
    ],
)
def test_listing_sorts(client, sort, expected):
    ListingFactory(title="A", price=None, year=2000, band=None)
    ListingFactory(title="B", price=Decimal("5"), year=None, band=None)
    ListingFactory(title="C", price=Decimal("20"), year=2010, band=None)
    assert titles(client.get("/listings/", {"sort": sort})) == expected


def test_sold_items_come_after_available_ones_in_every_sort(client):
    ListingFactory(title="A sold", band=None, sold=True)
    ListingFactory(title="Z available", band=None)
    assert titles(client.get("/listings/", {"sort": "title"})) == ["Z available", "A sold"]


@pytest.mark.parametrize(
    "params",
    [{"type": "Nope"}, {"sort": "evil"}, {"genre": "'; DROP TABLE"}, {"available": "maybe"}],
)
def test_invalid_filter_values_are_ignored_and_reported(client, band, params):
    ListingFactory(band=band)
    response = client.get("/listings/", params)
    assert response.status_code == 200
    assert len(response.context["page_obj"]) == 1
    if params != {"available": "maybe"}:  # a checkbox reads any value as "on"
        assert "Some filters were not understood" in response.text


def test_filters_survive_pagination(client, settings):
    settings.MERCHEX_PAGE_SIZE = 2
    ListingFactory.create_batch(5, type="Posters", band=None)
    response = client.get("/listings/", {"type": "Posters", "sort": "title"})
    assert 'href="?type=Posters&amp;sort=title&amp;page=2"' in response.text
    second = client.get("/listings/", {"type": "Posters", "sort": "title", "page": 2})
    assert 'href="?type=Posters&amp;sort=title&amp;page=1"' in second.text


def test_band_page_filters_its_own_listings(client, band):
    ListingFactory(title="Poster", band=band, type="Posters")
    ListingFactory(title="Sold poster", band=band, type="Posters", sold=True)
    ListingFactory(title="Tee", band=band, type="Clothing")
    ListingFactory(title="Other band poster", type="Posters")
    response = client.get(band.get_absolute_url(), {"type": "Posters", "available": "on"})
    assert titles(response) == ["Poster"]


def test_band_page_with_no_matching_merch_says_so(client, band):
    response = client.get(band.get_absolute_url(), {"type": "Records"})
    assert "No De La Soul merch matches these filters" in response.text


def test_a_filter_form_shows_what_was_picked(client, band):
    response = client.get(band.get_absolute_url(), {"type": "Posters"})
    assert '<option value="Posters" selected>' in response.text
    response = client.get(band.get_absolute_url(), {"type": "Records"})
    assert '<option value="Records" selected>' in response.text
    assert '<option value="Posters" selected>' not in response.text


def test_a_listing_page_describes_itself_for_link_previews(client, band):
    listing = ListingFactory(band=band, description="A" * 300, type="Posters")
    page = client.get(listing.get_absolute_url()).text
    assert f'<meta property="og:description" content="{"A" * 199}…">' in page
    listing = ListingFactory(band=band, description="", type="Posters")
    page = client.get(listing.get_absolute_url()).text
    assert '<meta property="og:description" content="Posters">' in page
    assert '<meta property="og:image:alt" content="">' not in page  # no picture, no image


# Readable, stable URLs


@pytest.mark.parametrize("suffix", ["", "?page=2"])
def test_bare_id_and_stale_slug_redirect_to_the_canonical_band_url(client, band, suffix):
    canonical = band.get_absolute_url()
    for old in [f"/bands/{band.pk}/", f"/bands/{band.pk}-old-name/"]:
        response = client.get(old + suffix)
        assert response.status_code == 301
        assert response["Location"] == canonical + suffix


def test_bare_id_redirects_to_the_canonical_listing_url(client, listing):
    response = client.get(f"/listings/{listing.pk}/")
    assert response.status_code == 301
    assert response["Location"] == listing.get_absolute_url()


def test_a_band_with_no_latin_letters_has_a_working_page(client):
    band = BandFactory(name="東京事変")
    assert band.get_absolute_url() == f"/bands/{band.pk}-band/"
    assert client.get(band.get_absolute_url()).status_code == 200


def test_unknown_ids_with_slugs_are_404(client):
    assert client.get("/bands/999999-nobody/").status_code == 404
    assert client.get("/listings/999999-nothing/").status_code == 404


# Prices


def test_prices_show_in_the_shop_currency(client, settings, band):
    settings.MERCHEX_CURRENCY = "EUR"
    priced = ListingFactory(band=band, price=Decimal("1234.5"))
    ListingFactory(band=band, price=None)
    text = client.get(band.get_absolute_url()).text
    assert "€1,234.50" in text
    assert "Price on request" in text
    settings.MERCHEX_CURRENCY = "CHF"
    assert "1,234.50 CHF" in client.get(priced.get_absolute_url()).text


# Page quality for search engines and sharing


def structured_data(response):
    start = response.text.index('<script type="application/ld+json">') + 35
    return json.loads(response.text[start : response.text.index("</script>", start)])


def test_band_page_has_open_graph_and_music_group_data(client, band):
    response = client.get(band.get_absolute_url())
    url = f"http://testserver{band.get_absolute_url()}"
    assert f'<link rel="canonical" href="{url}">' in response.text
    assert f'<meta property="og:url" content="{url}">' in response.text
    assert '<meta property="og:title" content="De La Soul merch">' in response.text
    data = structured_data(response)
    assert data["@type"] == "MusicGroup"
    assert data["name"] == "De La Soul"
    assert data["foundingDate"] == "1988"


@pytest.mark.parametrize(("sold", "availability"), [(False, "InStock"), (True, "SoldOut")])
def test_listing_page_has_product_data_with_offer(client, band, sold, availability):
    listing = ListingFactory(band=band, price=Decimal("25"), sold=sold)
    data = structured_data(client.get(listing.get_absolute_url()))
    assert data["@type"] == "Product"
    assert data["brand"]["name"] == "De La Soul"
    assert data["offers"]["price"] == "25.00"
    assert data["offers"]["priceCurrency"] == "EUR"
    assert data["offers"]["availability"] == f"https://schema.org/{availability}"


def test_a_listing_without_a_price_is_no_product_for_search_engines(client, band):
    """A Product needs an offer (or reviews) for rich results; "price on request" has none."""
    listing = ListingFactory(band=band, price=None)
    found = all_structured_data(client.get(listing.get_absolute_url()))
    assert [data["@type"] for data in found] == ["BreadcrumbList"]


def test_options_are_offers_each_with_its_availability(client, band):
    listing = ListingFactory(band=band, price=Decimal("25"), option=False)
    VariantFactory(listing=listing, name="S", stock=2, sku="TEE-S")
    VariantFactory(listing=listing, name="M", stock=0, price=Decimal("27"))
    VariantFactory(listing=listing, name="L", stock=None)
    offers = structured_data(client.get(listing.get_absolute_url()))["offers"]
    assert [(o["name"], o["price"], o["availability"].rsplit("/")[-1]) for o in offers] == [
        ("S", "25.00", "LimitedAvailability"),
        ("M", "27.00", "SoldOut"),
        ("L", "25.00", "InStock"),
    ]
    assert offers[0]["sku"] == "TEE-S"


def test_price_on_request_comes_last_in_price_sorts(client):
    ListingFactory(title="On request", price=None, band=None)
    ListingFactory(title="Sold at 5", price=Decimal("5"), sold=True, band=None)
    ListingFactory(title="At 20", price=Decimal("20"), band=None)
    ListingFactory(title="At 10", price=Decimal("10"), band=None)
    assert titles(client.get("/listings/", {"sort": "price"})) == [
        "At 10",
        "At 20",
        "Sold at 5",
        "On request",
    ]
    assert titles(client.get("/listings/", {"sort": "price-desc"}))[-1] == "On request"


def all_structured_data(response):
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', response.text, re.S)
    return [json.loads(text) for text in found]


def test_every_page_with_breadcrumbs_has_a_breadcrumb_list(client, band, listing):
    response = client.get(listing.get_absolute_url())
    [trail] = [data for data in all_structured_data(response) if data["@type"] == "BreadcrumbList"]
    names = [item["name"] for item in trail["itemListElement"]]
    assert names == ["Home", "Bands", "De La Soul", listing.title]
    urls = [item["item"] for item in trail["itemListElement"]]
    assert urls == [
        "http://testserver/",
        "http://testserver/bands/",
        f"http://testserver{band.get_absolute_url()}",
        f"http://testserver{listing.get_absolute_url()}",
    ]
    assert [item["position"] for item in trail["itemListElement"]] == [1, 2, 3, 4]
    for url in ["/bands/", "/listings/", "/contact/", band.get_absolute_url()]:
        types = [data["@type"] for data in all_structured_data(client.get(url))]
        assert "BreadcrumbList" in types, url


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("/", "http://testserver/"),
        ("/bands/?page=1&utm_source=x", "http://testserver/bands/?page=1"),
        (
            "/listings/?sort=price&type=Posters",
            "http://testserver/listings/?type=Posters&sort=price",
        ),
    ],
)
def test_home_and_lists_have_a_canonical_link_and_open_graph(client, listing, url, canonical):
    page = client.get(url).text
    assert f'<link rel="canonical" href="{canonical.replace("&", "&amp;")}">' in page
    assert f'<meta property="og:url" content="{canonical.replace("&", "&amp;")}">' in page
    assert '<meta property="og:title" content="' in page
    assert '<meta property="og:image" content="http://testserver/static/img/share.png">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page


def test_a_list_with_pictures_shares_its_first_one(client, listing):
    from listings.tests.factories import ListingPhotoFactory

    ListingPhotoFactory(listing=listing, alt_text="The poster, rolled out")
    page = client.get("/listings/").text
    assert '<meta property="og:image" content="http://testserver/media/' in page
    assert '<meta property="og:image:alt" content="The poster, rolled out">' in page


def test_link_previews_follow_the_filters(client, listing):
    page = client.get("/listings/", {"type": "Posters", "available": "on"}).text
    assert '<meta property="og:title" content="Available posters on merchex">' in page


def test_page_two_of_a_band_is_its_own_canonical_page(client, band, settings):
    settings.MERCHEX_PAGE_SIZE = 1
    ListingFactory.create_batch(2, band=band)
    page = client.get(band.get_absolute_url(), {"page": 2}).text
    assert (
        f'<link rel="canonical" href="http://testserver{band.get_absolute_url()}?page=2">' in page
    )


def test_the_home_page_describes_the_site_and_the_contact_page_is_indexable(client):
    found = all_structured_data(client.get("/"))
    assert {data["@type"] for data in found} >= {"WebSite", "Organization"}
    website = next(data for data in found if data["@type"] == "WebSite")
    assert website["potentialAction"]["target"]["urlTemplate"] == (
        "http://testserver/search/?q={query}"
    )
    contact = client.get("/contact/?listing=1").text
    assert '<link rel="canonical" href="http://testserver/contact/">' in contact
    assert '<meta property="og:title" content="Contact the shop">' in contact


def test_structured_data_cannot_break_out_of_its_script(client):
    band = BandFactory(name="</script><script>alert(1)</script>")
    response = client.get(band.get_absolute_url())
    assert "<script>alert(1)" not in response.text
    assert structured_data(response)["name"] == band.name


def test_every_page_has_a_unique_title_and_breadcrumbs(client, band, listing):
    pages = [
        "/",
        "/bands/",
        band.get_absolute_url(),
        "/listings/",
        listing.get_absolute_url(),
        "/search/?q=soul",
        "/contact/",
    ]
    seen = set()
    for url in pages:
        text = client.get(url).text
        title = text[text.index("<title>") : text.index("</title>")]
        assert title not in seen
        seen.add(title)
        assert '<meta name="description" content="' in text
        if url != "/":
            assert 'aria-label="Breadcrumb"' in text


def test_sitemap_lists_canonical_urls(client, band, listing):
    index = client.get("/sitemap.xml")
    assert index.status_code == 200
    assert "http://testserver/sitemap-bands.xml" in index.text
    bands = client.get("/sitemap-bands.xml").text
    assert f"<loc>http://testserver{band.get_absolute_url()}</loc>" in bands
    listings = client.get("/sitemap-listings.xml").text
    assert f"<loc>http://testserver{listing.get_absolute_url()}</loc>" in listings


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain"
    assert "Disallow: /admin/" in response.text
    assert "Sitemap: http://testserver/sitemap.xml" in response.text


# Contact


def contact_data(**overrides):
    return {"name": "Ada Fan", "email": "ada@example.com", "message": "Is it signed?", **overrides}


def test_contact_sends_email_with_the_visitor_in_reply_to(client, mailoutbox, settings, listing):
    settings.MERCHEX_CONTACT_EMAIL = "shop@merchex.example"
    response = client.post("/contact/", contact_data(listing=listing.pk))
    assert response.status_code == 302
    assert response["Location"] == "/contact/thanks/"
    [email] = mailoutbox
    assert email.to == ["shop@merchex.example"]
    assert email.reply_to == ["ada@example.com"]
    assert email.from_email == settings.DEFAULT_FROM_EMAIL
    assert "ada@example.com" not in email.from_email
    assert listing.title in email.body
    assert "Is it signed?" in email.body
    assert client.get(response["Location"]).status_code == 200


def test_contact_form_names_the_listing_it_is_about(client, listing):
    response = client.get("/contact/", {"listing": listing.pk})
    assert f'About: <a href="{listing.get_absolute_url()}">' in response.text
    assert client.get("/contact/", {"listing": "abc"}).status_code == 200
    assert client.get("/contact/", {"listing": "999999"}).status_code == 200


def test_contact_errors_are_tied_to_their_fields_and_focus_goes_to_the_first(client):
    page = client.post("/contact/", contact_data(name="", email="not-an-email")).text
    for name in ["name", "email"]:
        assert f'aria-describedby="id_{name}_error"' in page
        assert f'id="id_{name}_error"' in page
        assert f'<a href="#id_{name}">' in page  # the summary links to the field
    assert re.search(r'<input type="text" name="name"[^>]* autofocus', page)
    assert page.count("autofocus") == 1


def test_invalid_contact_input_reshows_the_form_with_errors_and_input(client, mailoutbox):
    response = client.post("/contact/", contact_data(email="not-an-email", message=""))
    assert response.status_code == 200
    assert "Please correct the fields marked below:" in response.text
    assert "Enter a valid email address." in response.text
    assert 'value="Ada Fan"' in response.text
    assert 'value="not-an-email"' in response.text
    assert mailoutbox == []


def test_honeypot_turns_bots_away(client, mailoutbox):
    response = client.post("/contact/", contact_data(website="http://spam.example"))
    assert response.status_code == 302
    assert mailoutbox == []


def test_a_line_break_in_the_name_cannot_inject_headers(client, mailoutbox):
    response = client.post("/contact/", contact_data(name="Ada\r\nBcc: victim@example.com"))
    assert response.status_code == 302
    [email] = mailoutbox
    assert "\n" not in email.subject
    assert email.bcc == []


def test_contact_form_needs_a_csrf_token(mailoutbox):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/contact/", contact_data())
    assert response.status_code == 403
    assert mailoutbox == []


def test_unknown_listing_in_a_post_is_a_form_error(client, mailoutbox):
    response = client.post("/contact/", contact_data(listing="999999"))
    assert response.status_code == 200
    assert mailoutbox == []
    assert Listing.objects.count() == 0


def test_the_genre_filter_offers_only_genres_with_merch_and_counts_them(client):
    ListingFactory.create_batch(2, band=BandFactory(genre="HH"))
    BandFactory(genre="JZ")  # a band with no merch: no empty page offered
    ListingFactory(band=BandFactory(genre="RO"), published=False)
    page = client.get("/listings/").text
    assert '<option value="HH">Hip Hop (2)</option>' in page
    assert 'value="JZ"' not in page
    assert 'value="RO"' not in page
    assert "ignored" in client.get("/listings/", {"genre": "JZ"}).text.lower()
