import pytest

from listings.tests.factories import BandFactory, ListingFactory


@pytest.fixture
def band(db):
    return BandFactory(name="De La Soul", genre="HH", year_formed=1988)


@pytest.fixture
def listing(band):
    return ListingFactory(title="De La Soul tour poster", band=band, type="Posters")


@pytest.fixture
def make_catalogue(db):
    """Build `bands` bands with `per_band` listings each, plus a few orphans."""

    def make(bands, per_band):
        made = BandFactory.create_batch(bands)
        for b in made:
            ListingFactory.create_batch(per_band, band=b)
        ListingFactory.create_batch(2, band=None)
        return made

    return make
