import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from listings.models import Band, Listing, fold
from listings.tests.factories import BandFactory, ListingFactory

pytestmark = pytest.mark.django_db


def test_band_str_is_its_name():
    assert str(BandFactory(name="Cut Copy")) == "Cut Copy"


def test_listing_str_is_its_title():
    assert str(ListingFactory(title="Cut Copy t-shirt")) == "Cut Copy t-shirt"


def test_listing_band_is_reachable_both_ways(band, listing):
    assert listing.band == band
    assert list(band.listings.all()) == [listing]


def test_listing_can_be_saved_without_a_band():
    listing = ListingFactory(band=None)
    listing.full_clean()  # blank=True: the admin can save it too
    assert Listing.objects.get(pk=listing.pk).band is None


def test_deleting_a_band_keeps_its_listings_without_band(band):
    listings = ListingFactory.create_batch(3, band=band)
    band.delete()
    assert Listing.objects.filter(pk__in=[item.pk for item in listings], band=None).count() == 3


@pytest.mark.parametrize("year", [1899, timezone.now().year + 1])
def test_band_year_formed_outside_range_is_rejected(year):
    band = BandFactory.build(year_formed=year)
    with pytest.raises(ValidationError) as excinfo:
        band.full_clean()
    assert "year_formed" in excinfo.value.message_dict


@pytest.mark.parametrize("year", [1900, timezone.now().year])
def test_band_year_formed_bounds_are_accepted(year):
    BandFactory.build(year_formed=year).full_clean()


def test_year_upper_bound_follows_the_clock(monkeypatch):
    next_year = timezone.now().year + 1
    monkeypatch.setattr(
        "listings.models.timezone.now",
        lambda: datetime.datetime(next_year, 6, 1, tzinfo=datetime.UTC),
    )
    BandFactory.build(year_formed=next_year).full_clean()


@pytest.mark.parametrize("year", [1899, timezone.now().year + 1])
def test_listing_year_outside_range_is_rejected(year):
    with pytest.raises(ValidationError) as excinfo:
        ListingFactory.build(year=year, band=None).full_clean()
    assert "year" in excinfo.value.message_dict


def test_listing_year_is_optional():
    ListingFactory.build(year=None, band=None).full_clean()


def test_band_names_are_unique_ignoring_case():
    BandFactory(name="Foo Fighters")
    with pytest.raises(ValidationError, match="A band with this name already exists"):
        BandFactory.build(name="foo fighters").full_clean()


def test_listings_put_available_before_sold_then_newest_first(band):
    old = ListingFactory(band=band)
    sold = ListingFactory(band=band, sold=True)
    new = ListingFactory(band=band)
    assert list(band.listings.all()) == [new, old, sold]


def test_available_and_orphans_querysets(band):
    available = ListingFactory(band=band)
    ListingFactory(band=band, sold=True)
    orphan = ListingFactory(band=None)
    assert set(Listing.objects.available()) == {available, orphan}
    assert list(Listing.objects.orphans()) == [orphan]


def test_active_bands_queryset():
    active = BandFactory()
    BandFactory(active=False)
    assert list(Band.objects.active()) == [active]


def test_absolute_urls_are_readable(band, listing):
    assert band.get_absolute_url() == f"/bands/{band.pk}-de-la-soul/"
    assert listing.get_absolute_url() == f"/listings/{listing.pk}-de-la-soul-tour-poster/"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Björk", "bjork"),
        ("AC/DC", "acdc"),
        ("東京事変", "band"),
        ("!!!", "band"),
        ("Sigur Rós", "sigur-ros"),
    ],
)
def test_band_slug_always_works(name, slug):
    assert BandFactory.build(name=name).slug == slug


def test_price_cannot_be_negative():
    with pytest.raises(ValidationError) as excinfo:
        ListingFactory.build(price=Decimal("-0.01"), band=None).full_clean()
    assert "price" in excinfo.value.message_dict


def test_database_refuses_a_negative_price():
    listing = ListingFactory(band=None)
    with pytest.raises(IntegrityError):
        Listing.objects.filter(pk=listing.pk).update(price=Decimal("-1"))


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Cut COPY", "cut copy"), ("BJÖRK", "bjork"), ("Straße", "strasse"), ("ﬁve", "five")],
)
def test_fold_lowers_and_strips_accents_ascii_or_not(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize("query", ["bjork", "BJÖRK", "jör", "Bjork"])
def test_band_matching_ignores_case_and_accents(query):
    bjork = BandFactory(name="Björk")
    BandFactory(name="Cut Copy")
    assert list(Band.objects.matching(query)) == [bjork]


@pytest.mark.parametrize("prefix", ["/", "/shop/"])
def test_absolute_urls_agree_with_reverse_under_any_script_prefix(band, listing, prefix):
    set_script_prefix(prefix)
    try:
        assert band.get_absolute_url() == reverse("listings:band-detail", args=[band.pk, band.slug])
        assert listing.get_absolute_url() == reverse(
            "listings:listing-detail", args=[listing.pk, listing.slug]
        )
        assert band.get_absolute_url().startswith(prefix)
    finally:
        set_script_prefix("/")
