"""Search (listings.search): one table of cases, run as is on SQLite and on PostgreSQL."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from listings import search
from listings.models import Band, Listing
from listings.tests.factories import BandFactory, ListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    """A small shop, made in this order (newest last)."""
    bands = {
        name: BandFactory(name=name)
        for name in ["Foo Fighters", "De La Soul", "Björk", "The Clash", "Cut Copy"]
    }
    items = [
        ("Foo Fighters single poster", "Foo Fighters", "Posters", False, "Promo poster."),
        ("Foo Fighters tour t-shirt", "Foo Fighters", "Clothing", False, "Tour tee."),
        ("The Colour and the Shape (vinyl)", "Foo Fighters", "Records", False, "Reissue."),
        ("De La Soul tour poster", "De La Soul", "Posters", False, "Screen-printed."),
        ("3 Feet High and Rising (vinyl)", "De La Soul", "Records", True, "Original."),
        ("De La Soul hoodie", "De La Soul", "Clothing", False, "With the daisy logo."),
        ("Homogenic LP", "Björk", "Records", False, "Gatefold sleeve."),
        ("Cut Copy T-Shirt", "Cut Copy", "Clothing", False, "Black cotton tee."),
        ("Gig ticket", "The Clash", "Misc", False, "Standing; a free poster at the door."),
        ("Tour sweatshirt", "The Clash", "Clothing", False, "Grey."),
    ]
    for title, band, kind, sold, description in items:
        ListingFactory(title=title, band=bands[band], type=kind, sold=sold, description=description)
    ListingFactory(title="Secret poster", band=bands["Foo Fighters"], published=False)
    ListingFactory(title="Draft band poster", band=BandFactory(name="Hidden", published=False))
    return bands


def merch(response):
    return re.findall(r'<h3 class="card-title">([^<]+)</h3>', response.text)


def bands_shown(response):
    if 'id="results-bands"' not in response.text:  # "No bands or merch match"
        return []
    section = response.text.split('id="results-bands"')[1].split("</section>")[0]
    return re.findall(r'<a href="/bands/[^"]+">([^<]+)</a>', section)


# query → (merch, in the order shown; bands shown, named or suggested)
CASES = {
    "foo fighters poster": (["Foo Fighters single poster"], ["Foo Fighters"]),
    "de la soul vinyl": (["3 Feet High and Rising (vinyl)"], ["De La Soul"]),
    "t shirt": (["Cut Copy T-Shirt", "Foo Fighters tour t-shirt"], []),
    "t-shirt": (["Cut Copy T-Shirt", "Foo Fighters tour t-shirt"], []),
    "tshirt": (["Cut Copy T-Shirt", "Foo Fighters tour t-shirt"], []),
    "T-SHIRTS": (["Cut Copy T-Shirt", "Foo Fighters tour t-shirt"], []),
    "tee": (["Cut Copy T-Shirt", "Foo Fighters tour t-shirt"], []),
    # Type "Records" and the vinyl/LP/record synonyms; the sold-out pressing last.
    "records": (
        ["Homogenic LP", "The Colour and the Shape (vinyl)", "3 Feet High and Rising (vinyl)"],
        [],
    ),
    "vinyl": (
        ["Homogenic LP", "The Colour and the Shape (vinyl)", "3 Feet High and Rising (vinyl)"],
        [],
    ),
    # In the title or type first; then the ticket, whose description alone says poster.
    "posters": (["De La Soul tour poster", "Foo Fighters single poster", "Gig ticket"], []),
    "poster": (["De La Soul tour poster", "Foo Fighters single poster", "Gig ticket"], []),
    "hoodie": (["Tour sweatshirt", "De La Soul hoodie"], []),
    "daisy": (["De La Soul hoodie"], []),
    "bjork": (["Homogenic LP"], ["Björk"]),
    "BJÖRK": (["Homogenic LP"], ["Björk"]),
    "homogénic": (["Homogenic LP"], []),
    "clash misc": (["Gig ticket"], ["The Clash"]),
    "miscellaneous": (["Gig ticket"], []),
    "3 feet high": (["3 Feet High and Rising (vinyl)"], []),
    # Typos: the band found by its name's letters, or suggested.
    "fo fighters": ([], ["Foo Fighters"]),
    "de la sol": ([], ["De La Soul"]),
    "bjrok": ([], ["Björk"]),
    # Drafts are never found.
    "secret": ([], []),
    "hidden": ([], []),
    "xylophone": ([], []),
}


@pytest.mark.parametrize("query", list(CASES))
def test_search_cases(client, shop, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    expected_merch, expected_bands = CASES[query]
    assert merch(response) == expected_merch
    assert bands_shown(response) == expected_bands


def test_suggestions_follow_the_bands(client, settings, shop):
    settings.MERCHEX_PAGE_CACHE = False  # rendered each time: the suggestions' own cache
    assert bands_shown(client.get("/search/", {"q": "bjrok"})) == ["Björk"]
    bjork = Band.objects.get(name="Björk")
    bjork.name = "Sigur Rós"
    bjork.save()
    assert bands_shown(client.get("/search/", {"q": "bjrok"})) == []
    assert bands_shown(client.get("/search/", {"q": "sigur roz"})) == ["Sigur Rós"]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("", "Type a band name or an item"),
        ("a", "Type at least two letters"),
        ("!!!", "Type at least two letters"),
        ("   ", "Type a band name or an item"),
        (" ".join(f"word{n}" for n in range(100)), "Only the first words"),
        ("x" * 5000, "No bands or merch match"),
    ],
)
def test_queries_with_nothing_to_find_say_so(client, shop, query, says):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert says in response.text
    assert merch(response) == []


@pytest.mark.parametrize(
    "query",
    [
        "poster NEAR tee",
        '"poster',
        "poster*",
        "-poster",
        "poster OR tee",
        "NOT poster",
        "poster AND",
        "(poster",
        "poster:*",
        "poster & !tee | x",
        "{title} : poster",
        "'; DROP TABLE listings_listing; --",
        "%_%",
        "\\",
    ],
)
def test_operators_typed_are_plain_words(client, shop, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert Listing.objects.count() == 12


def test_operator_words_are_searched_as_words(client, shop):
    assert merch(client.get("/search/", {"q": "poster*"})) == CASES["poster"][0]
    assert merch(client.get("/search/", {"q": "-tee"})) == CASES["tee"][0]


def test_pages_run_through_every_segment(client, settings, shop):
    settings.MERCHEX_PAGE_SIZE = 2
    first = client.get("/search/", {"q": "posters"})
    assert merch(first) == ["De La Soul tour poster", "Foo Fighters single poster"]
    assert "3 items, 1–2 shown" in first.text
    assert 'href="?q=posters&amp;page=2"' in first.text
    assert merch(client.get("/search/", {"q": "posters", "page": 2})) == ["Gig ticket"]
    records = [client.get("/search/", {"q": "vinyl", "page": n}) for n in (1, 2)]
    assert [merch(page) for page in records] == [CASES["vinyl"][0][:2], CASES["vinyl"][0][2:]]


def test_every_write_reaches_the_search_at_once(client, settings, shop):
    """Triggers keep the index: admin saves, updates, raw SQL, a band's new name, deletes."""
    settings.MERCHEX_PAGE_CACHE = False  # the index itself, whatever wrote to it
    assert merch(client.get("/search/", {"q": "flag"})) == []
    hoodie = Listing.objects.get(title="De La Soul hoodie")
    hoodie.title = "De La Soul flag"
    hoodie.save()
    assert merch(client.get("/search/", {"q": "flag"})) == ["De La Soul flag"]
    Listing.objects.filter(pk=hoodie.pk).update(description="A banner.", type="Misc")
    assert merch(client.get("/search/", {"q": "banner"})) == ["De La Soul flag"]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE listings_listing SET title = 'Patch' WHERE id = %s", [hoodie.pk])
    call_command("clearpages")  # as after any write outside merchex: cached cards show it now
    assert merch(client.get("/search/", {"q": "flag"})) == []
    assert merch(client.get("/search/", {"q": "patch"})) == ["Patch"]
    Band.objects.filter(name="De La Soul").update(name="Plug Tunin")
    assert merch(client.get("/search/", {"q": "plug patch"})) == ["Patch"]
    assert merch(client.get("/search/", {"q": "soul patch"})) == []  # the old name is gone
    Listing.objects.filter(pk=hoodie.pk).delete()
    assert merch(client.get("/search/", {"q": "patch"})) == []
    Band.objects.filter(name="The Clash").delete()  # its listings stay, without a band
    assert merch(client.get("/search/", {"q": "clash"})) == []
    assert merch(client.get("/search/", {"q": "sweatshirt"})) == ["Tour sweatshirt"]


def test_a_cached_search_costs_no_query(client, shop, django_assert_num_queries):
    client.get("/search/", {"q": "poster"})
    with django_assert_num_queries(0):
        response = client.get("/search/", {"q": "poster"})
    assert response["X-Cache"] == "hit"


@pytest.mark.parametrize("size", [1, 20])
@pytest.mark.parametrize(
    ("query", "queries"),
    [
        ("poster", 3),  # counts, a segment's ids, the cards (a merch word names no band)
        ("foo fighters poster", 4),  # the bands named, counts, a segment's ids, the cards
        ("de la sol", 3),  # bands, counts (nothing matches), the nearest bands
    ],
)
def test_search_queries_do_not_grow_with_data(client, settings, shop, size, query, queries):
    settings.MERCHEX_PAGE_SIZE = 2  # a first page within one segment (two would read both)
    for n in range(size):
        band = BandFactory(name=f"Extra band {n}")
        ListingFactory.create_batch(5, title=f"Extra poster {n}", type="Posters", band=band)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/search/", {"q": query, "page": 1})
    assert response.status_code == 200
    assert len(captured) == queries, [q["sql"] for q in captured]


def test_words_fold_join_and_bound():
    assert search.words("T-Shirts  de Björk!") == ["tshirt", "de", "bjork"]
    assert search.words("a b c 3 feet") == ["3", "feet"]
    assert search.words("poster poster POSTER") == ["poster"]
    assert len(search.words(" ".join(f"w{n}" for n in range(100)))) == search.MAX_WORDS
    assert search.parse("") is None
    assert search.parse("?!") is None
    assert search.parse("x") is None
    assert search.parse("3") is None
    assert search.parse("lp").groups == [["lp", "record", "vinyl"]]
    assert search.parse("records").groups == [["lp", "record", "records", "vinyl"]]
    assert search.parse("t shirt").groups == [["shirt", "tee", "tshirt"]]


def test_our_trigrams_are_pg_trgms():
    """The similarity SQLite uses for "did you mean" is pg_trgm's: same trigrams, same figure
    (checked against the extension itself on PostgreSQL, against its documentation here)."""
    texts = ["word", "two words", "Foo Fighters", "de la sol"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for text in texts:
                cursor.execute("SELECT show_trgm(%s)", [text])
                assert set(cursor.fetchone()[0]) == search.trigrams(text), text
            cursor.execute("SELECT similarity('bjrok', 'bjork')")
            assert cursor.fetchone()[0] == pytest.approx(0.2)
    assert search.trigrams("word") == {"  w", " wo", "wor", "ord", "rd "}
    grams = search.trigrams("bjrok"), search.trigrams("bjork")
    assert len(grams[0] & grams[1]) / len(grams[0] | grams[1]) == pytest.approx(0.2)
