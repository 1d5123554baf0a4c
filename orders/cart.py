"""A fan's cart, kept in their session: no account needed."""

import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum
from django_countries import countries

from listings.models import Variant
from orders.forms import AddToCartForm
from orders.models import Order, ShippingRegion
from orders.stock import held, left, why_not


@dataclass
class Line:
    variant: Variant
    quantity: int
    seen: Decimal  # the unit price when it was put in the cart
    problem: str | None

    @property
    def price_changed(self):
        return self.variant.unit_price != self.seen

    @property
    def total(self):
        price = self.variant.unit_price
        return None if price is None else price * self.quantity  # None: price on request


class Cart:
    """{option id: [quantity, the unit price the fan saw]} in the session. Each change makes
    a new checkout token: the checkout form posted twice for the same cart makes one order."""

    def __init__(self, session):
        self.session = session
        self.items = session.get("cart", {})

    def __len__(self):
        return len(self.items)

    def quantity(self, variant):
        return self.items.get(str(variant.pk), [0])[0]

    def put(self, variant, quantity):
        """Hold `quantity` of `variant` (0: none), at its price now."""
        if quantity:
            self.items[str(variant.pk)] = [quantity, str(variant.unit_price)]
        else:
            self.items.pop(str(variant.pk), None)
        self.session["cart"] = self.items
        self.session["checkout"] = secrets.token_urlsafe(16)

    def acknowledge(self, lines):
        """The fan has now seen these lines' current prices: checkout goes on at them."""
        # A price taken off is no price to go on at: the line says to ask the shop instead.
        changed = [line for line in lines if line.price_changed and line.total is not None]
        for line in changed:
            self.items[str(line.variant.pk)][1] = str(line.variant.unit_price)
        if changed:
            self.session["cart"] = self.items

    def clear(self):
        self.items = {}
        self.session["cart"] = {}
        self.session["checkout"] = secrets.token_urlsafe(16)

    @property
    def checkout(self):
        if "checkout" not in self.session:
            self.session["checkout"] = secrets.token_urlsafe(16)
        return self.session["checkout"]

    def lines(self):
        """The cart's lines at today's prices and stock, each with what stops it, if anything."""
        ids = [int(pk) for pk in self.items]
        variants = Variant.objects.filter(pk__in=ids).select_related(
            "listing__band", "listing__cover"
        )
        variants = {variant.pk: variant for variant in variants}
        held_units = held(ids)
        lines = []
        for pk, (quantity, seen) in self.items.items():
            variant = variants.get(int(pk))
            if variant is None:
                continue  # deleted from the catalogue: nothing to show or buy
            problem = why_not(variant, quantity, held_units)
            lines.append(Line(variant, quantity, Decimal(seen), problem))
        return lines

    def wanted(self, lines):
        return [(line.variant.pk, line.quantity, line.seen) for line in lines]


def summary(lines, country=None):
    """Totals of `lines`, with shipping to `country` (the home region's rate by default)."""
    units = sum(line.quantity for line in lines)
    subtotal = sum((line.total for line in lines if line.total is not None), Decimal(0))
    region = ShippingRegion.for_country(country or settings.MERCHEX_HOME_COUNTRY)
    shipping = region.cost(units) if region else None
    return {
        "units": units,
        "subtotal": subtotal,
        "region": region,
        "shipping": shipping,
        "total": subtotal + shipping if shipping is not None else None,
    }


def selling(listing):
    """What a product page shows to sell `listing`: its options with the units left, the
    add-to-cart form, and the shipping rate of the shop's home region."""
    variants = options(listing)
    home = ShippingRegion.home()
    return {
        "options": variants,
        "cart_form": AddToCartForm(listing, variants),
        "few_left": settings.MERCHEX_FEW_LEFT,
        "home_shipping": home and {"region": home, "cost": home.cost(1)},
        "home_country": countries.name(settings.MERCHEX_HOME_COUNTRY),
    }


def options(listing):
    """The listing's options with the units left of each (holds counted), in one query."""
    holding = Q(order_lines__order__in=Order.objects.holding())
    held = Sum("order_lines__quantity", filter=holding)
    # In their order: a GROUP BY query leaves the model's default ordering out.
    variants = list(listing.variants.annotate(held=held).order_by("position", "id"))
    for variant in variants:
        variant.listing = listing
        variant.left = left(variant, {variant.pk: variant.held or 0})
    return variants
