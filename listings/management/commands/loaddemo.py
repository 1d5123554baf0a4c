"""Load merchex's demo data: the course's bands and listings, a few more, and optional bulk data.

Running it again never duplicates anything: seed rows are matched by name and title, and the
bulk data is topped up to the numbers asked for.
"""

import itertools
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from listings.models import Band, Listing

Genre, Type = Band.Genre, Listing.Type

# (name, genre, year formed, active, homepage, biography)
SEED_BANDS = [
    (
        "De La Soul",
        Genre.HIP_HOP,
        1988,
        True,
        "https://www.wearedelasoul.com/",
        "Hip hop trio from Amityville, New York, known for playful samples and the album "
        "3 Feet High and Rising.",
    ),
    (
        "Foo Fighters",
        Genre.ALTERNATIVE_ROCK,
        1994,
        True,
        "https://foofighters.com/",
        "Rock band formed in Seattle by Dave Grohl.",
    ),
    ("Cut Copy", Genre.SYNTH_POP, 2001, True, "", "Electronic band from Melbourne, Australia."),
    ("Björk", Genre.ELECTRONIC, 1977, True, "", "Icelandic singer, songwriter and producer."),
    ("The Clash", Genre.PUNK, 1976, False, "", "Punk rock band from London."),
    ("Buena Vista Social Club", Genre.LATIN, 1996, False, "", "Ensemble of Cuban musicians."),
    ("Nina Simone Tribute Band", Genre.JAZZ, 2015, True, "", "Jazz and soul standards, live."),
]

# (title, band name or None, type, year, sold, description)
SEED_LISTINGS = [
    (
        "Cut Copy t-shirt",
        "Cut Copy",
        Type.CLOTHING,
        2011,
        False,
        "Black cotton tee, sizes S to XL.",
    ),
    (
        "De La Soul tour poster",
        "De La Soul",
        Type.POSTERS,
        1991,
        False,
        "Screen-printed A2 poster.",
    ),
    (
        "Foo Fighters single poster",
        "Foo Fighters",
        Type.POSTERS,
        1995,
        False,
        "Promo poster for the first single.",
    ),
    (
        "3 Feet High and Rising (vinyl)",
        "De La Soul",
        Type.RECORDS,
        1989,
        True,
        "Original pressing.",
    ),
    (
        "De La Soul hoodie",
        "De La Soul",
        Type.CLOTHING,
        2019,
        False,
        "Heavyweight hoodie with the daisy logo.",
    ),
    (
        "Foo Fighters tour t-shirt",
        "Foo Fighters",
        Type.CLOTHING,
        2018,
        False,
        "Concrete and Gold tour tee.",
    ),
    (
        "The Colour and the Shape (vinyl)",
        "Foo Fighters",
        Type.RECORDS,
        1997,
        False,
        "Anniversary reissue.",
    ),
    (
        "Foo Fighters gig ticket",
        "Foo Fighters",
        Type.MISC,
        2024,
        True,
        "Standing ticket, stadium show.",
    ),
    (
        "Bright Like Neon Love (vinyl)",
        "Cut Copy",
        Type.RECORDS,
        2004,
        False,
        "Limited colour vinyl.",
    ),
    ("Cut Copy tote bag", "Cut Copy", Type.MISC, 2017, False, "Canvas tote."),
    ("Homogenic (vinyl)", "Björk", Type.RECORDS, 1997, False, "180 g reissue."),
    ("Björk Biophilia poster", "Björk", Type.POSTERS, 2011, False, "Art print."),
    ("London Calling (vinyl)", "The Clash", Type.RECORDS, 1979, True, "UK first pressing."),
    ("The Clash badge set", "The Clash", Type.MISC, 1980, False, "Five enamel badges."),
    (
        "Buena Vista Social Club poster",
        "Buena Vista Social Club",
        Type.POSTERS,
        1999,
        False,
        "Film poster.",
    ),
    (
        "Tribute night ticket",
        "Nina Simone Tribute Band",
        Type.MISC,
        2025,
        False,
        "Seated, jazz club.",
    ),
    ("Festival lanyard", None, Type.MISC, 2023, False, "Merch not tied to one band."),
]

# Prices in the shop's currency; items not listed here show "price on request".
SEED_PRICES = {
    "Cut Copy t-shirt": "25.00",
    "De La Soul tour poster": "15.00",
    "Foo Fighters single poster": "12.50",
    "3 Feet High and Rising (vinyl)": "89.00",
    "De La Soul hoodie": "55.00",
    "Foo Fighters tour t-shirt": "28.00",
    "The Colour and the Shape (vinyl)": "32.00",
    "Foo Fighters gig ticket": "75.00",
    "Bright Like Neon Love (vinyl)": "30.00",
    "Cut Copy tote bag": "14.00",
    "Homogenic (vinyl)": "29.99",
    "Björk Biophilia poster": "40.00",
    "The Clash badge set": "9.50",
    "Festival lanyard": "5.00",
}

SYNTHETIC_BAND_PREFIX = "Demo Band "
SYNTHETIC_LISTING_PREFIX = "Demo item "
BATCH_SIZE = 5000


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

    def handle(self, *args, bands, listings, big_band, verbosity, **options):
        self.verbosity = verbosity
        if min(bands, listings, big_band) < 0:
            raise CommandError("--bands, --listings and --big-band cannot be negative.")
        if listings and not bands:
            raise CommandError("--listings needs --bands: synthetic listings belong to bands.")
        if big_band > listings:
            raise CommandError("--big-band cannot be more than --listings.")
        with transaction.atomic():
            created_bands, created_listings = self.load_seed()
        self.say(
            f"Seed data: {created_bands} bands and {created_listings} listings added "
            f"({len(SEED_BANDS)} bands, {len(SEED_LISTINGS)} listings in the seed)."
        )
        if bands:
            self.load_synthetic(bands, listings, big_band)

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
                    genre=genre,
                    year_formed=year,
                    active=active,
                    official_homepage=homepage,
                    biography=bio,
                )
                created_bands += 1
            by_name[name] = band
        created_listings = 0
        for title, band_name, type_, year, sold, description in SEED_LISTINGS:
            _, created = Listing.objects.get_or_create(
                title=title,
                band=by_name.get(band_name),
                defaults={
                    "type": type_,
                    "year": year,
                    "sold": sold,
                    "description": description,
                    "price": SEED_PRICES.get(title),
                },
            )
            created_listings += created
        return created_bands, created_listings

    def load_synthetic(self, n_bands, n_listings, big_band):
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
        if new_bands or missing > 0:
            self.analyze()

    def analyze(self):
        """Planner statistics for the new rows now, not whenever autovacuum gets to them (on
        PostgreSQL also VACUUM, unless inside a transaction: a server busy vacuuming minutes
        after a bulk load is slower for a while)."""
        tables = ", ".join(model._meta.db_table for model in (Band, Listing))
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                cursor.execute("ANALYZE")
            elif connection.in_atomic_block:
                cursor.execute(f"ANALYZE {tables}")
            else:
                cursor.execute(f"VACUUM ANALYZE {tables}")
