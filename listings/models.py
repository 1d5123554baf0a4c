import functools
import unicodedata
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import InterfaceError, OperationalError, connection, models
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, Lower
from django.db.models.lookups import IsNull
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.text import slugify

from listings.pictures import Picture, PictureField, PictureMixin, delete_after_commit

FIRST_YEAR = 1900
MAX_ID = 2**63 - 1  # the largest primary key either database stores
ALT_TEXT_HELP = (
    "What the picture shows, for people who cannot see it (read aloud by screen readers), "
    'e.g. "Black tee with the tour dates on the back".'
)


def current_year():
    """The latest year a band can have formed or an item be from (a callable, so never stale)."""
    return timezone.now().year


def year_validators():
    return [MinValueValidator(FIRST_YEAR), MaxValueValidator(current_year)]


def fold(text):
    """Lower-case `text` and strip its accents: "Björk" and "BJORK" both fold to "bjork"."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class Unaccent(models.Func):
    """Accent-folded text in SQL: PostgreSQL's unaccent extension; on SQLite the `fold` above,
    registered on each connection (listings.apps)."""

    function = "MERCHEX_FOLD"
    output_field = models.TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="UNACCENT(LOWER(%(expressions)s))")


@functools.cache
def detail_path(name):
    """The path of detail page `name` as a format string, found once with reverse().

    reverse() costs more than everything else in a listing card, and a page links to dozens of
    bands and listings; formatting a string found by reverse() keeps the URLconf the only place
    where paths are defined (test_models checks the two agree).
    """
    path = reverse(name, args=[123456789, "slug-placeholder"])
    path = path.removeprefix(get_script_prefix()).replace("123456789-slug-placeholder", "{}-{}")
    return path


def detail_url(name, pk, slug):
    return get_script_prefix() + detail_path(name).format(pk, slug)


def choice_label(choices, value):
    """The label of `value` in a TextChoices class, quicker than Model.get_FOO_display()."""
    member = choices._value2member_map_.get(value)
    return member.label if member is not None else value


@functools.lru_cache(maxsize=4096)  # a pure function, called for every link on a page
def readable_slug(text, fallback):
    """The URL slug for `text`; names with no Latin letters still get a working one."""
    return slugify(text)[:60].strip("-") or fallback


def band_slug(name):
    return readable_slug(name, "band")


FEATURED_HELP = "Put it forward on the home page: 1 comes first. Empty: not featured."
PUBLISHED_HELP = (
    "Shown to fans. Untick to keep it a draft while it is being prepared, or to take it off the "
    "shop without deleting it: drafts are on no fan page (staff signed in can preview them)."
)


class BandQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def public(self):
        """What fans may see: published bands."""
        return self.filter(published=True)

    def featured_first(self):
        """Bands staff put forward, in their order, then the others from A (an index's order)."""
        return self.order_by(
            IsNull(F("featured_position"), True), "featured_position", "name", "id"
        )

    def matching(self, *words):
        """Bands whose name contains each of `words`, ignoring case and accents."""
        bands = self.alias(folded_name=Unaccent("name"))
        for word in words:
            bands = bands.filter(folded_name__contains=fold(word))
        return bands

    def with_listing_count(self):
        """Annotate `listing_count` with a correlated subquery: no GROUP BY over the whole table,
        so a page of 100 bands costs 100 index look-ups whatever the size of the catalogue."""
        counts = (
            Listing.objects.filter(band=models.OuterRef("pk"))
            .order_by()
            .values("band")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.annotate(listing_count=Coalesce(models.Subquery(counts), 0))


class Band(PictureMixin, models.Model):
    class Genre(models.TextChoices):
        HIP_HOP = "HH", "Hip Hop"
        SYNTH_POP = "SP", "Synth Pop"
        ALTERNATIVE_ROCK = "AR", "Alternative Rock"
        ROCK = "RO", "Rock"
        POP = "PO", "Pop"
        PUNK = "PU", "Punk"
        METAL = "ME", "Metal"
        INDIE = "IN", "Indie"
        ELECTRONIC = "EL", "Electronic"
        RNB = "RB", "R&B / Soul"
        JAZZ = "JA", "Jazz"
        BLUES = "BL", "Blues"
        FOLK = "FO", "Folk"
        COUNTRY = "CO", "Country"
        REGGAE = "RE", "Reggae"
        LATIN = "LA", "Latin"
        CLASSICAL = "CL", "Classical"
        OTHER = "OT", "Other"

    name = models.CharField(max_length=100)
    genre = models.CharField(max_length=2, choices=Genre.choices)
    biography = models.TextField(blank=True)
    year_formed = models.PositiveSmallIntegerField(
        validators=year_validators(),
        help_text=f"The year the band formed: {FIRST_YEAR} up to the current year.",
    )
    active = models.BooleanField(default=True, help_text="Untick when the band has split up.")
    published = models.BooleanField(
        default=True, help_text=f"{PUBLISHED_HELP} A draft band's listings are hidden with it."
    )
    featured_position = models.PositiveSmallIntegerField(
        "home page position", null=True, blank=True, help_text=FEATURED_HELP
    )
    official_homepage = models.URLField(blank=True)
    picture = PictureField(blank=True, help_text="A photo or logo of the band: JPEG, PNG or WebP.")
    picture_width = models.PositiveIntegerField(null=True, editable=False)
    picture_height = models.PositiveIntegerField(null=True, editable=False)
    picture_alt = models.CharField(
        "picture description", max_length=200, blank=True, help_text=ALT_TEXT_HELP
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BandQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["name", "id"], name="listings_band_name_idx"),
            # The few drafts (the admin's "published: no" filter).
            models.Index(fields=["id"], condition=Q(published=False), name="listings_band_drafts"),
            # The home page's order: featured bands first, in their order, then A to Z.
            models.Index(
                IsNull(F("featured_position"), True),
                F("featured_position"),
                F("name"),
                F("id"),
                name="listings_band_home_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="listings_band_name_ci_unique",
                violation_error_message="A band with this name already exists.",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.save_picture(functools.partial(super().save, *args, **kwargs), picture_in_use)

    def get_absolute_url(self):
        return detail_url("listings:band-detail", self.pk, self.slug)

    def clean(self):
        if self.picture and not self.picture_alt.strip():
            raise ValidationError({"picture_alt": "Describe the picture in a few words."})

    @property
    def shown_picture(self):
        """The stored picture (not one just chosen in a form that has not been saved)."""
        picture = self.picture  # a FieldFile made on each access: once is enough
        if not (picture and picture._committed and self.picture_width):
            return None
        return Picture(picture.name, self.picture_width, self.picture_height, self.picture_alt)

    @property
    def genre_label(self):
        return choice_label(self.Genre, self.genre)

    @property
    def slug(self):
        return band_slug(self.name)

    @property
    def is_public(self):
        return self.published


class ListingQuerySet(models.QuerySet):
    def available(self):
        return self.filter(sold=False)

    def orphans(self):
        return self.filter(band__isnull=True)

    def featured_first(self):
        """Listings staff put forward, in their order, then the newest (an index's order)."""
        return self.order_by(
            "sold", IsNull(F("featured_position"), True), "featured_position", "-created_at", "-id"
        )

    def public(self):
        """What fans may see: published listings, without a band or of a published band.

        A LEFT JOIN to the band (which cards join anyway): both databases still read lists in
        their index's order (test_cache's plan tests), and it is cheaper to build and to count
        than a subquery of the draft bands (0.1 ms of a page; a count of 100,000 rows on
        SQLite 30 ms against 250 ms).
        """
        return self.filter(published=True).exclude(band__published=False)

    def for_cards(self):
        """What a listing card shows, its main picture's columns joined in: one query for a
        whole page. Plain columns, not select_related("cover"): building a photo instance for
        every card cost a band page 0.19 ms of its 2 ms. An id-only query (the paginator's
        deferred join) reads none of them, and both databases then drop the join."""
        return self.only(*Listing.CARD_FIELDS).annotate(
            cover_image=F("cover__image"),
            cover_width=F("cover__image_width"),
            cover_height=F("cover__image_height"),
            cover_alt=F("cover__alt_text"),
            cover_decorative=F("cover__decorative"),
        )

    def with_band(self):
        """Cards with their band's name joined in too (`band_name`, beside `band_id`): a plain
        column, as for_cards() reads the picture, not select_related("band"), whose band
        instance per card cost a page of 20 cards 0.11 ms."""
        return self.for_cards().annotate(band_name=F("band__name"))


class Listing(models.Model):
    class Type(models.TextChoices):
        RECORDS = "Records"
        CLOTHING = "Clothing"
        POSTERS = "Posters"
        MISC = "Misc", "Miscellaneous"

    # The columns a listing card needs; list pages load only these (and the cover's: for_cards).
    CARD_FIELDS = ("title", "sold", "year", "type", "price", "band", "featured_position")

    title = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    sold = models.BooleanField(default=False)
    published = models.BooleanField(default=True, help_text=PUBLISHED_HELP)
    featured_position = models.PositiveSmallIntegerField(
        "home page position", null=True, blank=True, help_text=FEATURED_HELP
    )
    year = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=year_validators(),
        help_text=f"The item's year, if known: {FIRST_YEAR} up to the current year.",
    )
    type = models.CharField(max_length=8, choices=Type.choices)
    price = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text='In the shop\'s currency. Leave empty to show "price on request".',
    )
    band = models.ForeignKey(
        Band,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="listings",
        db_index=False,  # listings_listing_band_feed_idx starts with band_id
        help_text="Leave empty for merch not tied to one band. Deleting a band keeps its listings.",
    )
    cover = models.ForeignKey(
        "ListingPhoto",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The main picture: the first of the listing's photos (kept in step by them).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ListingQuerySet.as_manager()

    class Meta:
        # Fans see what they can still buy first, newest first.
        ordering = ["sold", "-created_at", "-id"]
        indexes = [
            models.Index(fields=["sold", "-created_at", "-id"], name="listings_listing_feed_idx"),
            # The home page's order: what is for sale, featured first, then the newest.
            models.Index(
                F("sold"),
                IsNull(F("featured_position"), True),
                F("featured_position"),
                F("created_at").desc(),
                F("id").desc(),
                name="listings_listing_home_idx",
            ),
            models.Index(
                fields=["band", "sold", "-created_at", "-id"], name="listings_listing_band_feed_idx"
            ),
            # The other orders of the shop's list (ShopFilterForm.SORTS), unknown values last.
            models.Index(fields=["sold", "title", "id"], name="listings_listing_title_idx"),
            models.Index(
                F("sold"),
                IsNull(F("year"), True),
                F("year").desc(),
                F("id").desc(),
                name="listings_listing_year_idx",
            ),
            models.Index(
                F("sold"),
                IsNull(F("price"), True),
                F("price"),
                F("id"),
                name="listings_listing_price_lo_idx",
            ),
            models.Index(
                F("sold"),
                IsNull(F("price"), True),
                F("price").desc(),
                F("id").desc(),
                name="listings_listing_price_hi_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="listings_listing_price_non_negative"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return detail_url("listings:listing-detail", self.pk, self.slug)

    def refresh_cover(self):
        """Point `cover` at the first photo, in one statement (none left: no cover)."""
        first = ListingPhoto.objects.filter(listing=OuterRef("pk")).values("pk")[:1]
        Listing.objects.filter(pk=self.pk).update(cover=Subquery(first))

    @property
    def shown_picture(self):
        cover = self.cover
        return cover.shown_picture if cover else None

    @property
    def card_picture(self):
        """The main picture as a card shows it, from the columns for_cards() joins in."""
        if not self.cover_image:
            return None
        alt = "" if self.cover_decorative else self.cover_alt
        return Picture(self.cover_image, self.cover_width, self.cover_height, alt)

    @property
    def type_label(self):
        return choice_label(self.Type, self.type)

    @property
    def slug(self):
        return readable_slug(self.title, "item")

    @property
    def is_public(self):
        """Whether fans may see it (as ListingQuerySet.public(); the band is loaded if unloaded)."""
        return self.published and (self.band_id is None or self.band.published)


# The querysets of fan pages' lists, each built once per process and cloned for each page:
# resolving the card's columns and joins again for every page cost it up to 0.2 ms, a clone a
# third of that. Chain on them (filter, order_by...); the built queries themselves never run.


def cards_with_band():
    """Listing.objects.with_band()."""
    return _fan_querysets()["with_band"].all()


def band_cards(band_id):
    """A band's published listings, as its page lists them. Not band.listings, which would
    also give each card the band instance: cards on the band's own page do not name it
    (0.06 ms a page)."""
    return _fan_querysets()["published"].filter(band_id=band_id)


def public_cards():
    """Listing.objects.public().with_band(): what the shop lists."""
    return _fan_querysets()["public"].all()


def cards_for_sale():
    """What the shop lists and is not sold, newest first."""
    return _fan_querysets()["for_sale"].all()


def home_cards():
    """cards_for_sale(), what staff featured first: the home page's merch."""
    return _fan_querysets()["home"].all()


def home_bands():
    """Published, active bands, those staff featured first, then from A, with the columns the
    home page shows (the chain cost its page 0.15 ms when built for each render)."""
    return _fan_querysets()["home_bands"].all()


@functools.cache
def _fan_querysets():
    public = Listing.objects.public().with_band()
    for_sale = public.available()
    return {
        "with_band": Listing.objects.with_band(),
        "published": Listing.objects.for_cards().filter(published=True),
        "public": public,
        "for_sale": for_sale,
        "home": for_sale.featured_first(),
        "home_bands": Band.objects.public().active().featured_first().only("name", "genre"),
    }


class ListingPhoto(PictureMixin, models.Model):
    """One picture of a listing (front, back, detail...), in the order staff choose."""

    PICTURE = "image"

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="photos")
    image = PictureField("picture", help_text="JPEG, PNG or WebP.")
    image_width = models.PositiveIntegerField(null=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, editable=False)
    alt_text = models.CharField("description", max_length=200, blank=True, help_text=ALT_TEXT_HELP)
    decorative = models.BooleanField(
        default=False,
        help_text="Tick only if the picture adds nothing that the listing's text does not say.",
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Pictures show in this order; the first is the main one."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["listing", "position", "id"], name="listings_photo_order_idx")
        ]

    def __str__(self):
        return self.alt_text or f"Picture {self.position} of {self.listing_id}"

    def save(self, *args, **kwargs):
        self.save_picture(functools.partial(super().save, *args, **kwargs), picture_in_use)
        self.listing.refresh_cover()

    def clean(self):
        if not self.decorative and not self.alt_text.strip():
            raise ValidationError(
                {"alt_text": 'Describe the picture, or tick "decorative" if it adds nothing.'}
            )

    @property
    def shown_picture(self):
        """The stored picture (not one just chosen in a form that has not been saved)."""
        image = self.image  # a FieldFile made on each access: once is enough
        if not (image and image._committed and self.image_width):
            return None
        alt = "" if self.decorative else self.alt_text
        return Picture(image.name, self.image_width, self.image_height, alt)


def picture_in_use(name):
    """Whether any band or photo still shows the picture stored as `name`."""
    return (
        ListingPhoto.objects.filter(image=name).exists()
        or Band.objects.filter(picture=name).exists()
    )


@receiver(post_delete, sender=ListingPhoto)
def photo_deleted(sender, instance, **kwargs):
    delete_after_commit(instance.image.name, instance.image_width, picture_in_use)
    Listing(pk=instance.listing_id).refresh_cover()


@receiver(post_delete, sender=Band)
def band_deleted(sender, instance, **kwargs):
    delete_after_commit(instance.picture.name, instance.picture_width, picture_in_use)


class InfoPage(models.Model):
    """A page of shop information staff write in the admin (listings.info_pages)."""

    slug = models.SlugField(
        max_length=60, unique=True, help_text="The page's address: /info/<slug>/."
    )
    title = models.CharField(max_length=100)
    summary = models.CharField(
        max_length=200, help_text="One sentence, shown by search engines and link previews."
    )
    body = models.TextField(
        help_text="Plain text. A blank line starts a new paragraph; web addresses become links."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = "information page"

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("listings:info-page", args=[self.slug])


class CatalogueVersion(models.Model):
    """Versions of the whole catalogue, bumped by database triggers (listings.triggers).

    Counter CATALOGUE changes with every write to a band, a listing or a photo; BANDS with every
    write to a band (the band list shows nothing else); MEMBERSHIP when a write can change which
    listings a list holds, and so its count: a listing added or removed, or its band, type,
    availability or published state changed; a band's genre or published state (a price edit
    leaves every count as it was). Triggers catch every write, whatever makes it: admin forms,
    inlines, bulk actions, QuerySet.update(), deletes, loaddata, raw SQL. Lists are cached under
    these versions, so the first request after a change, in any process, renders a fresh page.

    Each counter is split into shards, one row each, and a write transaction bumps one of them
    (on PostgreSQL the shard of its transaction id, when it commits; SQLite, one writer at a
    time, always shard 0): there is no single row that every writer must lock. A counter's
    version is read from all of its shards at once, as their sum and their highest: every
    commit moves one shard forward, so the sum grows; and since a bump moves its shard to at
    least the clock in microseconds, after a restored backup the highest is beyond every number
    used before it. So a version is never seen twice for different data.
    """

    CATALOGUE, BANDS, MEMBERSHIP = 1, 2, 3
    SHARDS = 8
    ROW_IDS = 16  # a shard's row has id counter * ROW_IDS + shard (row_id): never a sequence's

    counter = models.PositiveSmallIntegerField()
    shard = models.PositiveSmallIntegerField(default=0)
    version = models.BigIntegerField(default=1)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["counter", "shard"]
        constraints = [
            models.UniqueConstraint(fields=["counter", "shard"], name="one_row_per_shard"),
        ]

    def __str__(self):
        return (
            f"counter {self.counter}, shard {self.shard}: version {self.version} "
            f"({self.changed_at:%Y-%m-%d %H:%M:%S})"
        )

    @classmethod
    def current(cls, counter=CATALOGUE):
        """(version, last change as a Unix time) of one counter: one query."""
        return cls.read([counter])[counter]

    @classmethod
    def read(cls, counters):
        """{counter: (version, last change as a Unix time)} of `counters`, in one query. A
        version is the text "<sum>.<highest>" of the counter's shards. Every bump moves a shard
        to at least the clock in microseconds, so the highest is also when the counter last
        changed (as a page's version is: caching.one_band)."""
        table, placeholders = cls._meta.db_table, ", ".join(["%s"] * len(counters))
        rows = read_versions(
            f"SELECT counter, SUM(version), MAX(version) FROM {table} "
            f"WHERE counter IN ({placeholders}) GROUP BY counter",
            counters,
        )
        found = {
            counter: (f"{total}.{highest}", version_time(highest))
            for counter, total, highest in rows
        }
        missing = [counter for counter in counters if counter not in found]
        if missing:
            # A counter's rows are gone (e.g. `manage.py flush`): start again from the clock
            # in microseconds, as the migrations do, beyond any version cached before.
            for counter in missing:
                cls.restart(counter)
            return cls.read(counters)
        return found

    @classmethod
    def restart(cls, counter=CATALOGUE):
        """Move every shard of `counter` to at least the clock, in microseconds: beyond every
        number used before (the triggers do as much on each write; this is for a lost row)."""
        now = timezone.now()
        version = int(now.timestamp() * 1_000_000)
        # A typed Value: with server-side parameters (settings) a bare int would be sent as a
        # 4-byte integer, and a number of microseconds silently cut to 32 bits.
        clock = Value(version, output_field=models.BigIntegerField())
        updated = cls.objects.filter(counter=counter).update(
            version=Greatest(F("version") + 1, clock), changed_at=now
        )
        if not updated:  # (another process may be doing the same: its row will do)
            row = cls(pk=cls.row_id(counter, 0), counter=counter, version=version, changed_at=now)
            cls.objects.bulk_create([row], ignore_conflicts=True)

    @classmethod
    def row_id(cls, counter, shard):
        """The id of a counter's shard: fixed, so that rows loaded from a dump and rows the
        triggers make can never take the same id."""
        return counter * cls.ROW_IDS + shard


class PageVersion(models.Model):
    """The version of one band's or one listing's pages, bumped by database triggers.

    A listing's page shows the listing, its photos and its band: it is cached under the
    listing's and the band's versions. A band's page shows the band and its listings: any change
    to the band, to one of its listings or to their photos bumps the band's version. Lists,
    search and sitemaps show the whole catalogue (CatalogueVersion). So a change re-renders the
    pages it can affect and no other. Like the catalogue's, each bump moves a version to at
    least the clock in microseconds (listings.triggers).
    """

    class Kind(models.TextChoices):
        BAND = "band"
        LISTING = "listing"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    object_id = models.BigIntegerField()
    version = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="one_version_per_page"),
        ]

    def __str__(self):
        return f"{self.kind} {self.object_id}: version {self.version}"


BAND_ROW = (
    f"SELECT {', '.join(field.column for field in Band._meta.concrete_fields)} "
    f"FROM {Band._meta.db_table} WHERE id = %s"
)


def from_row(model, values):
    """An instance of `model` from a row of its concrete fields' columns, read with plain SQL,
    converted as the ORM converts what it reads (SQLite's 0/1 booleans and text dates...)."""
    fields = model._meta.concrete_fields
    converted = []
    for field, value in zip(fields, values, strict=True):
        column = field.get_col(model._meta.db_table)
        for converter in connection.ops.get_db_converters(column) + field.get_db_converters(
            connection
        ):
            value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


def read_band(pk):
    """The band `pk`, or None: one plain SELECT of its columns, made a Band as the ORM makes
    one (from_row). A band page rendered on a cache miss reads its band so:
    get_object_or_404() builds and compiles a query for every page, which cost the 2,000-listing
    band page 7 % of its speed on PostgreSQL (make bench, "band page (2,000 listings)",
    uncached: 0.131 of the bare view with get_object_or_404, 0.141 with this). Reading the row
    with the page's version instead (one query less) made every *cached* band page 6 % slower
    (0.52 → 0.49); caching.page_band() keeps the band under the version instead."""
    if pk > MAX_ID:
        return None
    rows = _fetch(BAND_ROW, [pk])
    return from_row(Band, rows[0]) if rows else None


def version_time(version):
    """When `version` (a page's, a catalogue shard's) was made, as a Unix time: every bump moves
    a version to at least the clock in microseconds."""
    return version // 1_000_000


def read_versions(sql, params=()):
    """The rows of `sql`, a read of versions, run before every fan page and every 304.

    Plain SQL: the ORM's own work would cost more than the query. It is the first query of a
    fan page request, so on a reused connection it is also the connection's health check
    (CONN_HEALTH_CHECKS): rather than a `SELECT 1` and then this read, the read itself goes
    first, and if the connection has died it is closed and the read runs again on a new one.
    """
    if (
        connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
        and not connection.in_atomic_block
    ):
        connection.health_check_done = True
        try:
            return _fetch(sql, params)
        except (InterfaceError, OperationalError):
            connection.close()
    return _fetch(sql, params)


def _fetch(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
