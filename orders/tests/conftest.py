from decimal import Decimal

import pytest

from listings.tests.factories import ListingFactory, VariantFactory
from orders.models import add_default_regions
from orders.tests.stripe_server import StripeServer


@pytest.fixture(autouse=True)
def shipping_regions(request):
    """The migration's regions (gone with an earlier test's flush)."""
    if request.node.get_closest_marker("django_db"):
        add_default_regions()


@pytest.fixture(scope="session")
def stripe_server():
    with StripeServer() as server:
        yield server


@pytest.fixture
def stripe(settings, stripe_server):
    """Checkout open, with localstripe as Stripe."""
    for name, value in stripe_server.settings().items():
        setattr(settings, name, value)
    return stripe_server


@pytest.fixture
def tee(db):
    """A t-shirt at 25.00 in S (2 left), M (sold out) and L (not counted)."""
    listing = ListingFactory(title="Tour tee", price=Decimal("25.00"), option=False)
    VariantFactory(listing=listing, name="S", stock=2, position=1)
    VariantFactory(listing=listing, name="M", stock=0, position=2)
    VariantFactory(listing=listing, name="L", stock=None, position=3)
    return listing


def option(listing, name):
    return listing.variants.get(name=name)


ADDRESS = {
    "email": "fan@example.com",
    "name": "Ada Fan",
    "line1": "1 rue de la Paix",
    "line2": "",
    "city": "Paris",
    "postal_code": "75002",
    "country": "FR",
}


def add(client, listing, variant, quantity=1, **headers):
    data = {"variant": variant.pk, "quantity": quantity}
    return client.post(f"/cart/add/{listing.pk}/", data, **headers)


def check_out(client, **changes):
    page = client.get("/checkout/")
    token = page.context["form"]["checkout"].value()
    return client.post("/checkout/", {**ADDRESS, "checkout": token, **changes})
