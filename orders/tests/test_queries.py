"""Query budgets of the shop's pages: the same few queries for one line or twenty."""

from decimal import Decimal

import pytest

from listings.tests.factories import ListingFactory
from orders.tests.conftest import ADDRESS, add

pytestmark = pytest.mark.django_db


@pytest.fixture
def cart_of(client):
    def fill(lines):
        for _ in range(lines):
            listing = ListingFactory(price=Decimal("10.00"))
            add(client, listing, listing.variants.get())
        client.get("/cart/")  # the session back in the cache, prices acknowledged
        return client

    return fill


@pytest.mark.parametrize("lines", [1, 20])
def test_the_cart_costs_three_queries(cart_of, django_assert_num_queries, lines):
    client = cart_of(lines)
    with django_assert_num_queries(3):  # its options with listings, held units, shipping rates
        assert client.get("/cart/").status_code == 200


@pytest.mark.parametrize("lines", [1, 20])
def test_the_checkout_page_costs_three_queries(cart_of, stripe, django_assert_num_queries, lines):
    client = cart_of(lines)
    with django_assert_num_queries(3):
        assert client.get("/checkout/").status_code == 200


@pytest.mark.parametrize("lines", [1, 20])
def test_placing_an_order_costs_the_same_for_one_line_or_twenty(
    cart_of, stripe, django_assert_num_queries, lines
):
    client = cart_of(lines)
    token = client.get("/checkout/").context["form"]["checkout"].value()
    # The cart's options, held units; an earlier order with this token; rates (the form, then
    # the order); savepoint, options locked, held units, the order, its lines, the listings'
    # bands (their pages' versions), release; the emptied cart saved (savepoint, update,
    # release).
    with django_assert_num_queries(15):
        answer = client.post("/checkout/", {**ADDRESS, "checkout": token})
    assert answer.status_code == 302


@pytest.mark.parametrize("others", [0, 30])
def test_the_product_page_costs_four_queries(client, tee, django_assert_num_queries, others):
    ListingFactory.create_batch(others)
    with django_assert_num_queries(4):  # listing with band, pictures, options with holds, rates
        assert client.get(tee.get_absolute_url()).status_code == 200
