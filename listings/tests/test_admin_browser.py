"""The admin pages merchex customises, in Chromium at 1280 px: no horizontal scroll, and no
axe-core violation (WCAG 2 A and AA)."""

import json
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from listings.models import Listing
from listings.tests.factories import BandFactory, ListingFactory, ListingPhotoFactory
from listings.tests.test_browser import AXE


@pytest.fixture
def staff_page(browser, live_server, admin_user):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    yield page
    context.close()


def test_customised_admin_pages_fit_1280_px_and_pass_axe(live_server, staff_page, transactional_db):
    band = BandFactory(name="De La Soul")
    listing = ListingFactory(title="De La Soul tour poster", band=band, price=Decimal("15"))
    ListingPhotoFactory(listing=listing)
    ListingFactory.create_batch(5, band=band)
    pages = {
        "listings": "/admin/listings/listing/",
        "listing": f"/admin/listings/listing/{listing.pk}/change/",
        "new listing": "/admin/listings/listing/add/",
        "bands": "/admin/listings/band/",
        "band": f"/admin/listings/band/{band.pk}/change/",
        "orders": "/admin/orders/order/",
        "stock changes": "/admin/listings/stockchange/",
        "import": "/admin/listings/listing/import/",
    }
    failures = {}
    for name, path in pages.items():
        staff_page.goto(live_server.url + path)
        staff_page.add_script_tag(path=str(AXE))
        # Left out: the text of select2's box (Django admin's own autocomplete widget), a
        # read-only role="textbox" inside the combobox, which is named ("No band" when empty).
        result = staff_page.evaluate(
            "() => axe.run({exclude: [['.select2-selection__rendered']]},"
            " {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
        )
        violations = [
            (v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
        ]
        overflow = staff_page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        if violations or overflow > 0:
            failures[name] = {"violations": violations, "overflow px": overflow}
    assert failures == {}, json.dumps(failures, indent=1)


def test_staff_choose_rows_with_their_boxes_and_run_an_action(live_server, staff_page):
    """Each row's box is merchex's own HTML (CatalogueAdmin.action_checkbox): Django's script
    counts the boxes ticked, the header box ticks them all, and the action reaches every row."""
    first, *_ = ListingFactory.create_batch(3, sold=False)
    staff_page.goto(f"{live_server.url}/admin/listings/listing/")
    counter = staff_page.locator(".action-counter")
    staff_page.get_by_label(f"Select this object for an action - {first.title}").check()
    expect(counter).to_have_text("1 of 3 selected")
    staff_page.get_by_label("Select all objects on this page for an action").check()
    expect(counter).to_have_text("3 of 3 selected")
    staff_page.locator("select[name=action]").select_option("mark_sold")
    staff_page.get_by_role("button", name="Go").click()
    expect(staff_page.locator(".messagelist")).to_contain_text("3 listings marked as sold")
    assert Listing.objects.filter(sold=True).count() == 3
