"""A fan buys a t-shirt in Chromium, from the band's page to a paid order, with localstripe's
Stripe.js; the cart and checkout pages pass axe and the Nu HTML Checker."""

import json
import subprocess
from decimal import Decimal

import pytest
from django.db import transaction
from playwright.sync_api import expect

from listings.info_pages import ensure_info_pages
from listings.tests.factories import BandFactory, ListingFactory, VariantFactory
from listings.tests.test_browser import AXE, VNU
from orders.models import Order, add_default_regions


@pytest.fixture
def tee_shop(transactional_db, stripe, live_server):
    ensure_info_pages()  # and the shipping regions: the migration's, gone with a flush
    add_default_regions()
    stripe.send_webhooks_to(f"{live_server.url}/stripe/webhook/")
    band = BandFactory(name="Foo Fighters", genre="AR", year_formed=1994)
    with transaction.atomic():  # with its options, as the admin saves them: no one-size one
        tee = make_tee(band)
    return band, tee


def make_tee(band):
    tee = ListingFactory(
        title="Foo Fighters tour t-shirt", band=band, price=Decimal("28.00"), option=False
    )
    VariantFactory(listing=tee, name="S", stock=3, position=1)
    VariantFactory(listing=tee, name="M", stock=0, position=2)
    VariantFactory(listing=tee, name="L", stock=10, position=3)
    return tee


def fill_cart_and_address(page, live_server, band):
    page.goto(live_server.url + band.get_absolute_url())
    page.get_by_role("link", name="Foo Fighters tour t-shirt").click()
    expect(page.get_by_text("Only 3 left in S")).to_be_visible()
    expect(page.get_by_label("M (sold out)")).to_be_disabled()
    page.get_by_label("S", exact=True).check()
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your cart")
    expect(page.locator(".messages")).to_contain_text("2 × Foo Fighters tour t-shirt (S) added")
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Email").fill("fan@example.com")
    page.get_by_label("Name").fill("Ada Fan")
    page.get_by_label("Address:", exact=True).fill("1 rue de la Paix")
    page.get_by_label("City").fill("Paris")
    page.get_by_label("Postal code").fill("75002")
    page.get_by_label("Country").select_option("FR")


def test_a_fan_buys_a_t_shirt_from_the_band_page(live_server, page, tee_shop):
    band, tee = tee_shop
    fill_cart_and_address(page, live_server, band)
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment")
    expect(page.locator(".price")).to_have_text("Total €61.50")  # 2 × 28 + 4.50 + 1.00
    card = page.locator("#card")
    card.get_by_placeholder("number").fill("4242424242424242")
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("35")
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("75002")
    page.get_by_role("button", name="Pay €61.50").click()
    expect(page.locator(".order-status")).to_contain_text("Paid: thank you!")
    order = Order.objects.get()
    assert order.status == "paid"
    assert list(tee.variants.values_list("name", flat=True)) == ["S", "M", "L"]
    assert tee.variants.get(name="S").stock == 1
    page.go_back()  # the back button after paying: the order, not a second payment
    expect(page.locator(".order-status")).to_contain_text("Paid")


def test_cart_and_checkout_pass_axe_fit_the_screen_and_are_valid(
    live_server, audit_page, tee_shop, tmp_path
):
    band, _ = tee_shop
    fill_cart_and_address(audit_page, live_server, band)
    failures, files = {}, []
    for name in ("checkout", "cart"):
        if name == "cart":
            audit_page.goto(f"{live_server.url}/cart/")
        audit_page.add_script_tag(path=str(AXE))
        result = audit_page.evaluate(
            "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
        )
        violations = [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
        overflow = audit_page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        if violations or overflow > 0:
            failures[name] = {"violations": violations, "overflow": overflow}
        file = tmp_path / f"{name}.html"  # as served (axe is in the page now)
        file.write_bytes(audit_page.request.get(f"{live_server.url}/{name}/").body())
        files.append(str(file))
    assert failures == {}
    checked = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(checked.stderr)["messages"]
    assert [(m["url"].rsplit("/")[-1], m["message"], m.get("extract")) for m in messages] == []
