import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField

from listings import caching
from listings.models import Variant

MONEY = {"max_digits": 10, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}
MAX_TOTAL = Decimal("999999.99")  # Stripe charges at most 99,999,999 of a currency's cents


class ShippingRegion(models.Model):
    """Where the shop ships, and at what cost: the first unit of an order pays `first_item`,
    every other unit `additional_item`. Countries in no region cannot check out."""

    name = models.CharField(max_length=60)
    countries = CountryField(multiple=True, blank=True)
    everywhere_else = models.BooleanField(
        default=False, help_text="Also every country that no other region names."
    )
    first_item = models.DecimalField("first item", **MONEY)
    additional_item = models.DecimalField("each additional item", **MONEY)
    position = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    @classmethod
    def for_country(cls, code):
        """The region that ships to `code` (ISO 3166), or None: the shop does not ship there."""
        regions = list(cls.objects.all())
        named = [region for region in regions if code in {c.code for c in region.countries}]
        return (named or [region for region in regions if region.everywhere_else] or [None])[0]

    @classmethod
    def home(cls):
        return cls.for_country(settings.MERCHEX_HOME_COUNTRY)

    def cost(self, units):
        """The first unit pays the first-item rate, each other unit the additional one."""
        return self.first_item + self.additional_item * (units - 1) if units else Decimal("0")


EUROPE = (  # the EU, and its neighbours a parcel reaches alike
    "AT,BE,BG,HR,CY,CZ,DK,EE,FI,FR,DE,GR,HU,IE,IT,LV,"
    "LT,LU,MT,NL,PL,PT,RO,SK,SI,ES,SE,GB,CH,NO,IS,LI"
)


def add_default_regions(region_model=ShippingRegion):
    """A start staff edit in the admin: home, Europe, everywhere else (when there is none)."""
    if region_model.objects.exists():
        return
    region_model.objects.bulk_create(
        [
            region_model(
                name="Home",
                countries=settings.MERCHEX_HOME_COUNTRY,
                first_item=Decimal("4.50"),
                additional_item=Decimal("1.00"),
                position=1,
            ),
            region_model(
                name="Europe",
                countries=EUROPE,
                first_item=Decimal("9.00"),
                additional_item=Decimal("2.00"),
                position=2,
            ),
            region_model(
                name="Rest of the world",
                everywhere_else=True,
                first_item=Decimal("15.00"),
                additional_item=Decimal("4.00"),
                position=3,
            ),
        ]
    )


def new_reference():
    return secrets.token_urlsafe(12)  # 96 random bits: a link to the order is its key


class OrderQuerySet(models.QuerySet):
    def holding(self):
        """Orders whose stock is still held: awaiting payment, within their time."""
        return self.filter(status=Order.Status.PENDING, hold_until__gt=timezone.now())


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    reference = models.CharField(max_length=20, unique=True, default=new_reference, editable=False)
    # The checkout form's token: the same form posted twice makes one order.
    checkout = models.CharField(max_length=40, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    email = models.EmailField()
    name = models.CharField(max_length=200)
    line1 = models.CharField("address", max_length=200)
    line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20)
    country = CountryField()
    subtotal = models.DecimalField(**MONEY)
    shipping = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    refunded = models.DecimalField(default=Decimal("0"), **MONEY)
    currency = models.CharField(max_length=3)
    payment_intent = models.CharField(max_length=255, unique=True, null=True, blank=True)
    hold_until = models.DateTimeField(help_text="Until when its units are kept for it.")
    tracking_number = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True, help_text="What happened to it beyond its status.")
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("refund_order", "Can refund orders")]
        indexes = [
            models.Index(fields=["status", "hold_until"], name="orders_order_holding_idx"),
            models.Index(fields=["-created_at", "-id"], name="orders_order_newest_idx"),
        ]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("orders:order", args=[self.reference])

    @property
    def expired(self):
        return self.status == self.Status.PENDING and self.hold_until <= timezone.now()

    @property
    def cents(self):
        return to_cents(self.total)

    @property
    def address(self):
        parts = [self.line1, self.line2, f"{self.postal_code} {self.city}", self.country.name]
        return ", ".join(part for part in parts if part)


def to_cents(amount):
    return int((amount * 100).to_integral_value())


class OrderLine(models.Model):
    """One option of an order, with what it cost then (the catalogue may change later)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(
        Variant, null=True, on_delete=models.SET_NULL, related_name="order_lines"
    )
    title = models.CharField(max_length=100)
    option = models.CharField(max_length=40, blank=True)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(**MONEY)
    refunded_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.quantity} × {self.title}" + (f" ({self.option})" if self.option else "")

    @property
    def line_total(self):
        return self.unit_price * self.quantity


class WebhookEvent(models.Model):
    """A Stripe event already handled: each is processed once, however often it comes."""

    id = models.CharField(max_length=255, primary_key=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.id


@receiver([post_save, post_delete], sender=ShippingRegion)
def rates_changed(sender, **kwargs):
    caching.bump_everything()  # product pages show the home region's rate
