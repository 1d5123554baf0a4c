"""The product page's options and the cart: what fans choose, and every wrong way to choose."""

from decimal import Decimal

import pytest

from listings.models import Listing, Variant
from listings.tests.factories import ListingFactory, VariantFactory
from orders.tests.conftest import add, option

pytestmark = pytest.mark.django_db


def test_the_product_page_offers_its_options_and_says_what_is_left(client, tee):
    page = client.get(tee.get_absolute_url())
    html = page.text
    assert f'action="/cart/add/{tee.pk}/"' in html
    assert 'name="quantity"' in html
    assert "Only 2 left" in html  # S, at or under MERCHEX_FEW_LEFT
    m = option(tee, "M")
    assert f'value="{m.pk}"' in html
    assert "M (sold out)" in html
    assert html.count(" disabled") >= 1
    assert "Shipping to home (France): €4.50 for the first item" in html
    assert "csrfmiddlewaretoken" not in html  # shared by every visitor: nothing of one


def test_the_product_page_is_the_same_cached_page_with_a_cart_or_without(client, tee):
    first = client.get(tee.get_absolute_url())
    add(client, tee, option(tee, "L"))
    second = client.get(tee.get_absolute_url())
    assert second["X-Cache"] == "hit"
    assert second.content == first.content


def test_a_one_size_item_has_no_choice_to_make(client):
    listing = ListingFactory(price=Decimal("10.00"))
    html = client.get(listing.get_absolute_url()).text
    assert 'type="hidden" name="variant"' in html
    assert "Add to cart" in html


def test_an_item_without_a_price_is_asked_about_not_added(client):
    listing = ListingFactory(price=None)
    html = client.get(listing.get_absolute_url()).text
    assert "Add to cart" not in html
    assert "Ask the shop about this item" in html


def test_adding_to_the_cart_and_seeing_it(client, tee):
    answer = add(client, tee, option(tee, "S"), 2)
    assert answer.status_code == 302
    assert answer["Location"] == "/cart/"
    cart = client.get("/cart/")
    assert "2 × Tour tee (S) added to your cart." in cart.text
    assert "€50.00" in cart.text  # line and items total
    assert "Shipping (home)" in cart.text
    assert "€5.50" in cart.text
    assert "€55.50" in cart.text


@pytest.mark.parametrize("quantity", ["0", "-1", str(10**20), "abc", ""])
def test_a_bad_quantity_is_refused_with_a_message(client, tee, quantity):
    answer = add(client, tee, option(tee, "L"), quantity)
    assert answer.status_code == 400
    assert "Not added to your cart" in answer.text
    assert client.session.get("cart", {}) == {}


def test_an_option_of_another_listing_is_refused(client, tee):
    other = ListingFactory(price=Decimal("5.00"))
    answer = add(client, tee, other.variants.get())
    assert answer.status_code == 400
    assert "Select a valid choice" in answer.text


def test_a_sold_out_option_is_refused(client, tee):
    answer = add(client, tee, option(tee, "M"))
    assert answer.status_code == 400
    assert "Tour tee (M) is sold out." in answer.text


def test_more_than_is_left_or_the_limit_is_refused(client, tee):
    assert "only 2 left" in add(client, tee, option(tee, "S"), 3).text
    assert "at most 10 per order" in add(client, tee, option(tee, "L"), 11).text
    add(client, tee, option(tee, "L"), 8)
    answer = add(client, tee, option(tee, "L"), 3)  # 11 with the 8 in the cart
    assert answer.status_code == 400
    assert "You have 8 in your cart already." in answer.text


@pytest.mark.parametrize("change", [{"published": False}, {"sold": True}])
def test_drafts_and_sold_items_cannot_be_added(client, tee, change):
    Listing.objects.filter(pk=tee.pk).update(**change)
    answer = add(client, tee, option(tee, "L"))
    assert answer.status_code == (404 if "published" in change else 400)


def test_a_cross_site_form_cannot_fill_a_cart(client, tee):
    answer = add(client, tee, option(tee, "L"), HTTP_SEC_FETCH_SITE="cross-site")
    assert answer.status_code == 403
    assert client.session.get("cart", {}) == {}


def test_a_cart_holds_at_most_fifty_different_items(client, settings):
    items = [ListingFactory(price=Decimal("1.00")) for _ in range(settings.MERCHEX_CART_LINES)]
    for item in items:
        assert add(client, item, item.variants.get()).status_code == 302
    extra = ListingFactory(price=Decimal("1.00"))
    answer = add(client, extra, extra.variants.get())
    assert answer.status_code == 400
    assert "at most 50 different items" in answer.text
    assert len(client.session["cart"]) == 50
    assert add(client, items[0], items[0].variants.get()).status_code == 302  # more of one: fine


def test_changing_and_removing_lines(client, tee):
    s, size_l = option(tee, "S"), option(tee, "L")
    add(client, tee, s)
    add(client, tee, size_l)
    client.post("/cart/update/", {"variant": size_l.pk, "quantity": 4})
    assert client.session["cart"][str(size_l.pk)][0] == 4
    over = client.post("/cart/update/", {"variant": size_l.pk, "quantity": 11}, follow=True)
    assert "at most 10 per order" in over.text
    client.post("/cart/update/", {"variant": s.pk, "quantity": 0})
    assert list(client.session["cart"]) == [str(size_l.pk)]


@pytest.mark.parametrize("data", [{"variant": "x", "quantity": "1"}, {"quantity": "1"}, {}])
def test_a_bad_cart_update_is_a_message(client, tee, data):
    answer = client.post("/cart/update/", data, follow=True)
    assert answer.status_code == 200
    assert "That item is not in your cart." in answer.text


def test_the_cart_says_when_a_price_changed_or_an_option_sold_out(client, tee):
    s, size_l = option(tee, "S"), option(tee, "L")
    add(client, tee, s)
    add(client, tee, size_l)
    size_l.price = Decimal("30.00")
    size_l.save()
    s.stock = 0
    s.save()
    cart = client.get("/cart/").text
    assert "The price changed since you added it: it was €25.00." in cart
    assert "€30.00" in cart
    assert "Tour tee (S) is sold out." in cart
    assert "Check out</a>" not in cart


def test_every_listing_has_an_option(db):
    listing = ListingFactory()
    assert listing.variants.count() == 1
    assert VariantFactory(listing=listing, name="XL").unit_price == listing.price


@pytest.mark.parametrize("deleted", [["S", "M", "L"], ["L"]])
def test_a_listing_whose_options_left_cannot_sell_is_sold_out(
    admin_client, client, tee, deleted, django_capture_on_commit_callbacks
):
    """Options deleted from the options list (not the listing's page): the last one, or the
    last that could sell (S has 2 left, M none, L is not counted), left it for sale."""
    if deleted == ["L"]:
        Variant.objects.filter(pk=option(tee, "S").pk).update(stock=0)  # sold meanwhile
    chosen = [option(tee, name).pk for name in deleted]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/listings/variant/",
            {"action": "delete_selected", "_selected_action": chosen, "post": "yes"},
        )
    tee.refresh_from_db()
    assert tee.sold
    assert "Add to cart" not in client.get(tee.get_absolute_url()).text


def test_a_price_taken_off_after_adding_is_asked_about_on_every_later_page(client, stripe, tee):
    add(client, tee, option(tee, "L"))
    tee.price = None  # "price on request" now
    tee.save()
    for _ in range(2):  # the second visit reads what the first one noted in the session
        for url in ["/cart/", "/checkout/"]:
            response = client.get(url)
            assert response.status_code == 200, url
            assert "Tour tee (L) has no price: ask the shop about it." in response.text
