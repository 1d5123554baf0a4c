import factory
from factory.django import DjangoModelFactory

from listings.models import Band, Listing


class BandFactory(DjangoModelFactory):
    class Meta:
        model = Band

    name = factory.Sequence(lambda n: f"Band {n}")
    genre = Band.Genre.ALTERNATIVE_ROCK
    biography = "A band that makes music."
    year_formed = 1990


class ListingFactory(DjangoModelFactory):
    class Meta:
        model = Listing

    title = factory.Sequence(lambda n: f"Listing {n}")
    description = "An item for sale."
    type = Listing.Type.CLOTHING
    year = 2020
    band = factory.SubFactory(BandFactory)
