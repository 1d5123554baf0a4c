"""Load merchex's demo data: the course's bands and listings, a few more, and optional bulk data.

Running it again never duplicates anything: seed rows are matched by name and title, and the
bulk data is topped up to the numbers asked for.
"""

import itertools
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from listings import caching, demo_pictures
from listings.info_pages import ensure_info_pages
from listings.models import Band, Listing, ListingPhoto, Variant, give_missing_options


def table(text):
    """The rows of a table written one per line, cells split by "|"; "-" is an empty cell."""
    rows = [[cell.strip() for cell in line.split("|")] for line in text.strip().splitlines()]
    return [[None if cell == "-" else cell for cell in row] for row in rows]


# name | genre | formed | active | homepage | biography
SEED_BANDS = table("""
De La Soul | Hip Hop | 1988 | yes | https://www.wearedelasoul.com/ | Hip hop trio from New York.
Foo Fighters | Alternative Rock | 1994 | yes | https://foofighters.com/ | Rock band from Seattle.
Cut Copy | Synth Pop | 2001 | yes | - | Electronic band from Melbourne, Australia.
Björk | Electronic | 1977 | yes | - | Icelandic singer, songwriter and producer.
The Clash | Punk | 1976 | no | - | Punk rock band from London.
Buena Vista Social Club | Latin | 1996 | no | - | Ensemble of Cuban musicians.
Nina Simone Tribute Band | Jazz | 2015 | yes | - | Jazz and soul standards, live.
""")

# title | band | type | year | sold | price ("-": on request) | description
SEED_LISTINGS = table("""
Cut Copy t-shirt | Cut Copy | Clothing | 2011 | no | 25.00 | Black cotton tee, sizes S to XL.
De La Soul tour poster | De La Soul | Posters | 1991 | no | 15.00 | Screen-printed A2 poster.
Foo Fighters single poster | Foo Fighters | Posters | 1995 | no | 12.50 | Promo poster.
3 Feet High and Rising (vinyl) | De La Soul | Records | 1989 | yes | 89.00 | Original pressing.
De La Soul hoodie | De La Soul | Clothing | 2019 | no | 55.00 | Hoodie with the daisy logo.
Foo Fighters tour t-shirt | Foo Fighters | Clothing | 2018 | no | 28.00 | Concrete and Gold tee.
The Colour and the Shape (vinyl) | Foo Fighters | Records | 1997 | no | 32.00 | Reissue.
Foo Fighters gig ticket | Foo Fighters | Misc | 2024 | yes | 75.00 | Standing, stadium show.
Bright Like Neon Love (vinyl) | Cut Copy | Records | 2004 | no | 30.00 | Limited colour vinyl.
Cut Copy tote bag | Cut Copy | Misc | 2017 | no | 14.00 | Canvas tote.
Homogenic (vinyl) | Björk | Records | 1997 | no | 29.99 | 180 g reissue.
Björk Biophilia poster | Björk | Posters | 2011 | no | 40.00 | Art print.
London Calling (vinyl) | The Clash | Records | 1979 | yes | - | UK first pressing.
The Clash badge set | The Clash | Misc | 1980 | no | 9.50 | Five enamel badges.
Buena Vista Social Club poster | Buena Vista Social Club | Posters | 1999 | no | - | Film poster.
Tribute night ticket | Nina Simone Tribute Band | Misc | 2025 | no | - | Seated, jazz club.
Festival lanyard | - | Misc | 2023 | no | 5.00 | Merch not tied to one band.
""")
GENRES = {label: value for value, label in Band.Genre.choices}

SYNTHETIC_BAND_PREFIX = "Demo Band "
SYNTHETIC_LISTING_PREFIX = "Demo item "
BATCH_SIZE = 5000
# The demo shop's options: tees in sizes, some nearly gone; records and posters counted.
SEED_SIZES = {"S": 4, "M": 12, "L": 3, "XL": 0}
SEED_STOCK = {Listing.Type.RECORDS: 25, Listing.Type.POSTERS: 8}


class Command(BaseCommand):
    help = "Load the demo bands and listings (idempotent); optionally top up bulk synthetic data."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bands", type=int, default=0, help="Synthetic bands to have in total."
        )
        parser.add_argument(
            "--listings", type=int, default=0, help="Synthetic listings to have in total."
        )
        parser.add_argument(
            "--big-band",
            type=int,
            default=0,
            metavar="N",
            help="Of the synthetic listings, N belong to the first synthetic band.",
        )
        parser.add_argument(
            "--no-pictures",
            dest="pictures",
            action="store_false",
            help="Load the rows only, without drawing demo pictures.",
        )

    def handle(self, *args, bands, listings, big_band, pictures, verbosity, **options):
        self.verbosity = verbosity
        if min(bands, listings, big_band) < 0:
            raise CommandError("--bands, --listings and --big-band cannot be negative.")
        if listings and not bands:
            raise CommandError("--listings needs --bands: synthetic listings belong to bands.")
        if big_band > listings:
            raise CommandError("--big-band cannot be more than --listings.")
        with transaction.atomic():
            created_bands, created_listings = self.load_seed()
            drawn = self.draw_seed_pictures() if pictures else 0
            restored = ensure_info_pages()
            self.give_seed_options()
        self.say(
            f"Seed data: {created_bands} bands and {created_listings} listings added "
            f"({len(SEED_BANDS)} bands, {len(SEED_LISTINGS)} listings in the seed); "
            f"{drawn} pictures drawn; {restored} information pages restored."
        )
        if bands:
            self.load_synthetic(bands, listings, big_band, pictures)
        caching.bump_everything()  # bulk writes send no signals

    def say(self, message):
        if self.verbosity:
            self.stdout.write(message)

    def load_seed(self):
        created_bands = 0
        by_name = {}
        for name, genre, year, active, homepage, bio in SEED_BANDS:
            band = Band.objects.filter(name__iexact=name).first()
            if band is None:
                band = Band.objects.create(
                    name=name,
                    genre=GENRES[genre],
                    year_formed=int(year),
                    active=active == "yes",
                    official_homepage=homepage or "",
                    biography=bio,
                )
                created_bands += 1
            by_name[name] = band
        created_listings = 0
        for title, band_name, type_, year, sold, price, description in SEED_LISTINGS:
            _, created = Listing.objects.get_or_create(
                title=title,
                band=by_name.get(band_name),
                defaults={
                    "type": type_,
                    "year": int(year),
                    "sold": sold == "yes",
                    "description": description,
                    "price": price and Decimal(price),
                },
            )
            created_listings += created
        return created_bands, created_listings

    def give_seed_options(self):
        """Sizes and counts for the seed items that have no options yet."""
        priced = [title for title, *_, price, _ in SEED_LISTINGS if price]
        for listing in Listing.objects.filter(variants__isnull=True, title__in=priced):
            if listing.type == Listing.Type.CLOTHING:
                sizes = SEED_SIZES.items()
            else:
                sizes = [("", SEED_STOCK.get(listing.type))]
            Variant.objects.bulk_create(
                Variant(listing=listing, name=name, stock=stock, position=position)
                for position, (name, stock) in enumerate(sizes, start=1)
            )

    def draw_seed_pictures(self):
        """A logo for every seed band and a picture for every seed item (tees: front and back),
        drawn here and saved as a staff member's upload would be."""
        drawn = 0
        seed_names = [name for name, *_ in SEED_BANDS]
        for band in Band.objects.filter(name__in=seed_names, picture=""):
            band.picture = demo_pictures.as_upload(demo_pictures.logo(band.name))
            band.picture_alt = f"The {band.name} logo"
            band.save()
            drawn += 1
        seed_titles = [title for title, *_ in SEED_LISTINGS]
        pictureless = Listing.objects.filter(title__in=seed_titles, cover__isnull=True)
        for listing in pictureless.select_related("band"):
            name = listing.band.name if listing.band else "merchex"
            item = (listing.type, listing.title, name)
            views = [(demo_pictures.drawing(*item), listing.title)]
            if listing.type == Listing.Type.CLOTHING:
                views = [
                    (demo_pictures.drawing(*item), f"{listing.title}, front"),
                    (demo_pictures.drawing(*item, back=True), f"{listing.title}, back: tour dates"),
                ]
            for position, (image, alt) in enumerate(views, start=1):
                ListingPhoto(
                    listing=listing,
                    image=demo_pictures.as_upload(image),
                    alt_text=alt,
                    position=position,
                ).save()
                drawn += 1
        return drawn

    def share_pool_pictures(self):
        """Synthetic listings and bands share a pool of pictures, one per item type and one
        logo (100,000 listings do not need 100,000 files): one real upload each, then rows that
        point to its files. Files stay while any row shows them (listings.pictures)."""
        synthetic = Listing.objects.filter(title__startswith=SYNTHETIC_LISTING_PREFIX)
        for type_ in Listing.Type.values:
            of_type = synthetic.filter(type=type_)
            pool = ListingPhoto.objects.filter(listing__in=of_type).first()
            if pool is None:
                first = of_type.order_by("pk").first()
                if first is None:
                    continue
                drawing = demo_pictures.DRAWINGS[type_]("Demo Band")
                pool = ListingPhoto(
                    listing=first, image=demo_pictures.as_upload(drawing), alt_text=first.title
                )
                pool.save()
            missing = of_type.filter(cover__isnull=True).values_list("pk", "title")
            rows = (
                ListingPhoto(
                    listing_id=pk,
                    image=pool.image.name,
                    image_width=pool.image_width,
                    image_height=pool.image_height,
                    alt_text=title,
                )
                for pk, title in missing.iterator()
            )
            ListingPhoto.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        first_photo = ListingPhoto.objects.filter(listing=OuterRef("pk")).values("pk")[:1]
        synthetic.filter(cover__isnull=True).update(cover=Subquery(first_photo))
        bands = Band.objects.filter(name__startswith=SYNTHETIC_BAND_PREFIX)
        logo = bands.exclude(picture="").first()
        if logo is None and (first_band := bands.order_by("pk").first()) is not None:
            first_band.picture = demo_pictures.as_upload(demo_pictures.logo("Demo Band"))
            first_band.picture_alt = "A demo band logo"
            first_band.save()
            logo = first_band
        if logo is not None:
            bands.filter(picture="").update(
                picture=logo.picture.name,
                picture_width=logo.picture_width,
                picture_height=logo.picture_height,
                picture_alt="A demo band logo",
            )

    def load_synthetic(self, n_bands, n_listings, big_band, pictures):
        genres = itertools.cycle(Band.Genre.values)
        existing = set(
            Band.objects.filter(name__startswith=SYNTHETIC_BAND_PREFIX).values_list(
                "name", flat=True
            )
        )
        names = [f"{SYNTHETIC_BAND_PREFIX}{i:05d}" for i in range(1, n_bands + 1)]
        new_bands = [
            Band(name=name, genre=next(genres), year_formed=1960 + i % 60, active=i % 7 != 0)
            for i, name in enumerate(names)
            if name not in existing
        ]
        for start in range(0, len(new_bands), BATCH_SIZE):
            Band.objects.bulk_create(new_bands[start : start + BATCH_SIZE])
            self.say(
                f"  bands: {len(existing) + min(start + BATCH_SIZE, len(new_bands))}/{n_bands}"
            )
        band_ids = list(
            Band.objects.filter(name__in=names).order_by("name").values_list("id", flat=True)
        )
        have = Listing.objects.filter(title__startswith=SYNTHETIC_LISTING_PREFIX).count()
        missing = n_listings - have
        self.say(
            f"Synthetic data: {len(new_bands)} bands added; {max(missing, 0)} listings to add."
        )
        types = Listing.Type.values
        big_band_id, other_ids = band_ids[0], band_ids[1:] or band_ids
        for start in range(have, n_listings, BATCH_SIZE):
            batch = []
            for i in range(start, min(start + BATCH_SIZE, n_listings)):
                band_id = big_band_id if i < big_band else other_ids[i % len(other_ids)]
                batch.append(
                    Listing(
                        title=f"{SYNTHETIC_LISTING_PREFIX}{i + 1:06d}",
                        band_id=band_id,
                        type=types[i % len(types)],
                        year=1970 + i % 55,
                        sold=i % 5 == 0,
                        price=None if i % 7 == 0 else Decimal(5 + i % 60),
                        description="Synthetic listing for load tests.",
                    )
                )
            Listing.objects.bulk_create(batch)
            self.say(f"  listings: {start + len(batch)}/{n_listings}")
        give_missing_options(BATCH_SIZE)
        if pictures:
            with transaction.atomic():
                self.share_pool_pictures()
        if new_bands or missing > 0:
            self.analyze()

    def analyze(self):
        """Planner statistics for the new rows now, not whenever autovacuum gets to them (on
        PostgreSQL also VACUUM, unless inside a transaction: a server busy vacuuming minutes
        after a bulk load is slower for a while)."""
        tables = ", ".join(model._meta.db_table for model in (Band, Listing, ListingPhoto))
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                cursor.execute("ANALYZE")
            elif connection.in_atomic_block:
                cursor.execute(f"ANALYZE {tables}")
            else:
                cursor.execute(f"VACUUM ANALYZE {tables}")
