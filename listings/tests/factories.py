import factory
from django.db.models import OuterRef, Subquery
from factory.django import DjangoModelFactory

from listings.models import Band, Listing, ListingPhoto, Variant


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
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Listing {n}")
    description = "An item for sale."
    type = Listing.Type.CLOTHING
    year = 2020
    band = factory.SubFactory(BandFactory)

    @factory.post_generation
    def option(listing, create, extracted, **kwargs):
        """Every listing is sold through an option: in the product it is given when the listing
        commits, which a test's transaction never does. option=False: none (the test adds its
        own)."""
        if create and extracted is not False and not listing.variants.exists():
            Variant.objects.create(listing=listing)


class VariantFactory(DjangoModelFactory):
    class Meta:
        model = Variant

    listing = factory.SubFactory(ListingFactory, option=False)
    name = ""


def image_file(width=800, height=600, kind="JPEG", *, colour="#5a2ad6", exif=None, name=None):
    """An in-memory picture upload, drawn here (no downloads)."""
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = BytesIO()
    image = Image.new("RGB", (width, height), colour)
    options = {"exif": exif} if exif is not None else {}
    image.save(buffer, kind, **options)
    extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}[kind]
    return SimpleUploadedFile(name or f"photo.{extension}", buffer.getvalue())


class ListingPhotoFactory(DjangoModelFactory):
    class Meta:
        model = ListingPhoto

    listing = factory.SubFactory(ListingFactory)
    image = factory.LazyFunction(image_file)
    alt_text = factory.Sequence(lambda n: f"Photo {n} of the item")


def share_pictures(listings, bands=()):
    """Give every listing a photo and every band a picture from one real stored picture, as
    the bulk demo data does (100,000 listings do not need 100,000 files)."""
    first = ListingPhotoFactory(listing=listings[0])
    ListingPhoto.objects.bulk_create(
        ListingPhoto(
            listing=listing,
            image=first.image.name,
            image_width=first.image_width,
            image_height=first.image_height,
            alt_text=f"{listing.title}, front",
        )
        for listing in listings[1:]
    )
    Listing.objects.filter(pk__in=[listing.pk for listing in listings]).update(
        cover=Subquery(ListingPhoto.objects.filter(listing=OuterRef("pk")).values("pk")[:1])
    )
    Band.objects.filter(pk__in=[band.pk for band in bands]).update(
        picture=first.image.name,
        picture_width=first.image_width,
        picture_height=first.image_height,
        picture_alt="The band on stage",
    )
    return first
