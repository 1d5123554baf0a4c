import functools
import unicodedata
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Lower
from django.db.models.lookups import IsNull
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from listings import caching
from listings.pictures import Picture, PictureField, PictureMixin, delete_after_commit

FIRST_YEAR = 1900
MAX_ID = 2**63 - 1  # the largest primary key either database stores
ALT_TEXT_HELP = (
    "What the picture shows, for people who cannot see it (read aloud by screen readers), "
    'e.g. "Black tee with the tour dates on the back".'
)


def parse_id(value):
    """A primary key from user input, or None: ASCII digits only ("²" and "١" pass str.isdigit()
    but are no id), in the range a database key can hold."""
    if not (value and value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def current_year():
    """The latest year a band can have formed or an item be from (a callable, so never stale)."""
    return timezone.now().year


def year_validators():
    return [MinValueValidator(FIRST_YEAR), MaxValueValidator(current_year)]


def fold(text):
    """Lower-case `text` and strip its accents: "Björk" and "BJORK" both fold to "bjork"."""
    if text is None:
        return None
    if text.isascii():  # most names and titles: 14 times quicker (the admin's search on SQLite)
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class Unaccent(models.Func):
    """Accent-folded text in SQL: PostgreSQL's unaccent extension; on SQLite the `fold` above,
    registered on each connection (listings.apps)."""

    function = "MERCHEX_FOLD"
    output_field = models.TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="UNACCENT(LOWER(%(expressions)s))")


def readable_slug(text, fallback):
    """The URL slug for `text`; names with no Latin letters still get a working one."""
    return slugify(text)[:60].strip("-") or fallback


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
        return reverse("listings:band-detail", args=[self.pk, self.slug])

    def clean(self):
        if self.picture and not self.picture_alt.strip():
            raise ValidationError({"picture_alt": "Describe the picture in a few words."})

    @property
    def shown_picture(self):
        """The stored picture (not one just chosen in a form that has not been saved)."""
        picture = self.stored()
        if picture is None:
            return None
        return Picture(picture.name, self.picture_width, self.picture_height, self.picture_alt)

    @property
    def slug(self):
        return readable_slug(self.name, "band")

    @property
    def is_public(self):
        return self.published


# A price in the shop's currency, or none (a listing's "price on request", an option's
# "the listing's price").
PRICE = {
    "max_digits": 8,
    "decimal_places": 2,
    "null": True,
    "blank": True,
    "validators": [MinValueValidator(Decimal("0"))],
}


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

    def matching(self, *words):
        """Listings whose title or band's name contains each of `words`, ignoring case and
        accents (the admin's search; fans' search is listings.search)."""
        listings = self.alias(folded_title=Unaccent("title"))
        for word in words:
            # Each band's name folded once, not once per listing: half the time of a search
            # on SQLite at 100,000 listings.
            bands = Band.objects.matching(word).values("pk")
            listings = listings.filter(Q(folded_title__contains=fold(word)) | Q(band__in=bands))
        return listings

    def for_cards(self):
        """What a listing card shows, its main picture joined in: one query for a whole page."""
        return self.select_related("cover")

    def with_band(self):
        """Cards that also name their band."""
        return self.select_related("cover", "band")


class Listing(models.Model):
    class Type(models.TextChoices):
        RECORDS = "Records"
        CLOTHING = "Clothing"
        POSTERS = "Posters"
        MISC = "Misc", "Miscellaneous"

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
        **PRICE, help_text='In the shop\'s currency. Leave empty to show "price on request".'
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
    max_per_order = models.PositiveSmallIntegerField(
        "most per order",
        default=10,
        validators=[MinValueValidator(1)],
        help_text="How many of each option one order may hold.",
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
                IsNull(F("price"), True),
                F("sold"),
                F("price"),
                F("id"),
                name="listings_listing_price_lo_idx",
            ),
            models.Index(
                IsNull(F("price"), True),
                F("sold"),
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
        return reverse("listings:listing-detail", args=[self.pk, self.slug])

    @classmethod
    def from_db(cls, db, field_names, values):
        """Note the band the row was read with: a save that moves the listing to another band
        refreshes the old band's page too (listing_changed)."""
        instance = super().from_db(db, field_names, values)
        instance.loaded_band_id = dict(zip(field_names, values, strict=True)).get("band_id")
        return instance

    def refresh_cover(self):
        """Point `cover` at the first photo, in one statement (none left: no cover)."""
        first = ListingPhoto.objects.filter(listing=OuterRef("pk")).values("pk")[:1]
        Listing.objects.filter(pk=self.pk).update(cover=Subquery(first))

    @property
    def shown_picture(self):
        cover = self.cover
        return cover.shown_picture if cover else None

    @property
    def slug(self):
        return readable_slug(self.title, "item")

    @property
    def placeholder(self):
        """The static drawing of the kind of item, for listings without a picture."""
        return f"img/placeholder-{self.type.lower()}.svg"

    @property
    def is_public(self):
        """Whether fans may see it (as ListingQuerySet.public(); the band is loaded if unloaded)."""
        return self.published and (self.band_id is None or self.band.published)


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
        default=1, help_text="Pictures show in this order (1 first): the first is the main one."
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
        image = self.stored()
        if image is None:
            return None
        alt = "" if self.decorative else self.alt_text
        return Picture(image.name, self.image_width, self.image_height, alt)


class Variant(models.Model):
    """One option a listing is sold as ("M", "12-inch"; empty for a one-size item), with the
    units that can still be sold. Every listing has at least one."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(
        "option", max_length=40, blank=True, help_text='Empty for a one-size item; "M", "LP"…'
    )
    stock = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="How many can still be sold (a paid order takes its units off). "
        "Empty: not counted, never sells out.",
    )
    price = models.DecimalField(**PRICE, help_text="Empty: the listing's price.")
    sku = models.CharField("SKU", max_length=40, blank=True)
    position = models.PositiveSmallIntegerField(default=1, help_text="Options show in this order.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "option"
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "name"], name="listings_variant_unique_name"
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="listings_variant_price_non_negative"
            ),
        ]

    def __str__(self):
        return f"{self.listing} ({self.name})" if self.name else str(self.listing)

    @property
    def unit_price(self):
        return self.listing.price if self.price is None else self.price


class StockChange(models.Model):
    """Why an option's count is what it is: every change to it, with its reason."""

    class Reason(models.TextChoices):
        SALE = "sale", "Sold"
        RESTOCK = "restock", "Refunded, back in stock"
        STAFF = "staff", "Staff edit"
        IMPORT = "import", "Import"

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="changes")
    change = models.IntegerField(help_text="Units added (positive) or taken off (negative).")
    stock = models.PositiveIntegerField(null=True, help_text="The count after the change.")
    reason = models.CharField(max_length=8, choices=Reason.choices)
    order = models.CharField(max_length=40, blank=True, help_text="The order's reference.")
    by = models.CharField(max_length=150, blank=True, help_text="The staff member.")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["variant", "-at"], name="listings_stockchange_idx")]

    def __str__(self):
        return f"{self.change:+d} {self.variant} ({self.get_reason_display()})"


def give_missing_options(batch_size=5000):
    """A one-size option for every listing without one (after bulk writes, which send no
    signals: imports, demo data)."""
    missing = Listing.objects.filter(variants__isnull=True).values_list("pk", flat=True)
    Variant.objects.bulk_create(
        (Variant(listing_id=pk) for pk in missing.iterator()), batch_size=batch_size
    )


def update_sold(listing_ids):
    """After a stock change: a listing is sold out when none of its options can still sell,
    and for sale again when units come back. Saved one by one: their pages refresh."""
    sellable = Variant.objects.filter(Q(stock__isnull=True) | Q(stock__gt=0))
    for listing in Listing.objects.filter(pk__in=listing_ids).order_by("pk"):
        sold = not sellable.filter(listing=listing).exists()
        if listing.sold != sold:
            listing.sold = sold
            listing.save(update_fields=["sold", "updated_at"])


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


# Cached fan pages (listings.caching): every save or delete refreshes the pages it shows on.
# Paths that skip signals (QuerySet.update(): bulk actions) call pages_changed themselves;
# imports and commands that write many rows, caching.bump_everything().


def pages_changed(model, pks):
    """Refresh, when the transaction commits, the pages the rows `pks` of `model` show on."""
    if model is Band:
        listings = Listing.objects.filter(band__in=pks).values_list("pk", flat=True)
        caching.bump_rows(bands=pks, listings=listings, band_list=True)
    elif model is Listing:
        bands = Listing.objects.filter(pk__in=pks).values_list("band_id", flat=True)
        caching.bump_rows(bands=bands, listings=pks)


@receiver([post_save, pre_delete], sender=Band)
def band_changed(sender, instance, **kwargs):
    # Its listings' pages show it: refreshed with it (before a delete lets go of them).
    pages_changed(Band, [instance.pk])


@receiver([post_save, post_delete], sender=Listing)
def listing_changed(sender, instance, **kwargs):
    bands = [instance.band_id, getattr(instance, "loaded_band_id", None)]
    caching.bump_rows(bands=bands, listings=[instance.pk])
    instance.loaded_band_id = instance.band_id


@receiver([post_save, post_delete], sender=ListingPhoto)
@receiver([post_save, post_delete], sender=Variant)
def part_changed(sender, instance, **kwargs):
    pages_changed(Listing, [instance.listing_id])


@receiver(post_delete, sender=Variant)
def option_deleted(sender, instance, **kwargs):
    # Its listing may have nothing left to sell: sold out. After commit: a listing deleted
    # with its options is not saved on its way out.
    transaction.on_commit(lambda: update_sold([instance.listing_id]))


@receiver(post_save, sender=Listing)
def give_an_option(sender, instance, created, **kwargs):
    """Every listing is sold through at least one option: a one-size one, uncounted, unless
    the same transaction gave it options (the admin's inline rows are saved after the listing)."""

    def give():
        listing = Listing.objects.filter(pk=instance.pk)
        if listing.exists() and not Variant.objects.filter(listing=instance.pk).exists():
            Variant.objects.create(listing=instance)

    if created:
        transaction.on_commit(give)
