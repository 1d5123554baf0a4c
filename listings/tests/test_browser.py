"""Fans and staff in a real browser (Debian's Chromium through Playwright), against a live server.

Also checks every public page type with axe-core (WCAG 2 A and AA) and the Nu HTML Checker, at a
phone's width (375 px) and a laptop's (1280 px).
"""

import hashlib
import json
import re
import subprocess
from decimal import Decimal

import pytest
from django.conf import settings
from playwright.sync_api import expect

from listings.info_pages import ensure_info_pages
from listings.models import Band, Listing
from listings.roles import sync_shop_staff
from listings.tests.factories import BandFactory, ListingFactory, ListingPhotoFactory, image_file

NODE_MODULES = settings.BASE_DIR / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"


@pytest.fixture
def shop(transactional_db):
    """A small shop: two bands, posters and more, one orphan, one inactive band."""
    ensure_info_pages()  # (the migration's, gone with an earlier test's flush)
    soul = BandFactory(name="De La Soul", genre="HH", year_formed=1988, biography="Hip hop trio.")
    foo = BandFactory(name="Foo Fighters", genre="AR", year_formed=1994)
    BandFactory(name="The Clash", genre="PU", year_formed=1976, active=False)
    items = {
        "poster": ListingFactory(
            title="De La Soul tour poster", band=soul, type="Posters", price=Decimal("15")
        ),
        "sold_poster": ListingFactory(
            title="De La Soul gig poster", band=soul, type="Posters", sold=True
        ),
        "hoodie": ListingFactory(title="De La Soul hoodie", band=soul, type="Clothing"),
        "foo": ListingFactory(title="Foo Fighters single poster", band=foo, type="Posters"),
        "orphan": ListingFactory(title="Festival lanyard", band=None, type="Misc"),
    }
    poster = items["poster"]
    ListingPhotoFactory(
        listing=poster, image=image_file(900, 1200), alt_text="The poster", position=0
    )
    ListingPhotoFactory(
        listing=poster,
        image=image_file(900, 600, colour="#17663a"),
        alt_text="Its corner",
        position=1,
    )
    ListingPhotoFactory(
        listing=items["hoodie"], image=image_file(1000, 1000), decorative=True, alt_text=""
    )
    soul.picture = image_file(1200, 800, colour="#3e1a9e")
    soul.picture_alt = "De La Soul on stage"
    soul.save()
    return {"soul": soul, "foo": foo, **items}


def public_pages(shop):
    """One URL of every public page type."""
    return {
        "home": "/",
        "band list": "/bands/",
        "band": shop["soul"].get_absolute_url(),
        "band filtered": shop["soul"].get_absolute_url() + "?type=Posters&available=on",
        "listing list": "/listings/?sort=price",
        "listing": shop["poster"].get_absolute_url(),
        "orphan listing": shop["orphan"].get_absolute_url(),
        "search": "/search/?q=soul",
        "search empty": "/search/?q=",
        "search did you mean": "/search/?q=de+la+sol",
        "search too short": "/search/?q=a",
        "search nothing": "/search/?q=xylophone",
        "contact": f"/contact/?listing={shop['poster'].pk}",
        "contact thanks": "/contact/thanks/",
        "information page": "/info/shipping-and-returns/",
        "not found": "/bands/999999-nobody/",
    }


# Journeys


def test_fan_mistypes_a_band_and_follows_the_suggestion(live_server, page, shop):
    page.goto(live_server.url)
    page.get_by_role("searchbox", name="Search bands and merch").fill("foo fihgters tshirts")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".did-you-mean")).to_contain_text("Did you mean Foo Fighters?")
    page.locator(".did-you-mean").get_by_role("link", name="Foo Fighters").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Foo Fighters")


def test_fan_finds_available_posters_of_a_band(live_server, page, shop):
    page.goto(live_server.url)
    page.get_by_role("searchbox", name="Search bands and merch").fill("de la")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Results for “de la”")
    page.locator("#results-bands + ul").get_by_role("link", name="De La Soul").click()
    expect(page).to_have_url(re.compile(re.escape(shop["soul"].get_absolute_url()) + "$"))

    page.get_by_label("Type").select_option("Posters")
    page.get_by_label("Available only").check()
    page.get_by_role("button", name="Apply").click()
    cards = page.locator(".cards .card-title")
    expect(cards).to_have_text(["De La Soul tour poster"])

    page.locator(".cards .card-img").first.click()  # the picture is the link too
    expect(page.get_by_role("heading", level=1)).to_have_text("De La Soul tour poster")
    expect(page.locator(".price")).to_have_text("€15.00")
    page.get_by_role("link", name="More from De La Soul").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("De La Soul")


def test_fan_writes_to_the_shop(live_server, page, shop, mailoutbox):
    page.goto(live_server.url + shop["hoodie"].get_absolute_url())  # no price: ask about it
    page.get_by_role("link", name="Ask the shop about this item").click()
    expect(page.get_by_text("About: De La Soul hoodie")).to_be_visible()
    page.get_by_label("Name").fill("Ada Fan")
    page.get_by_label("Your email").fill("not-an-email")
    page.get_by_label("Message").fill("Is the poster signed?")
    page.get_by_role("button", name="Send message").click()
    expect(page.locator("#id_email_error")).to_have_text("Enter a valid email address.")
    expect(page.get_by_label("Message")).to_have_value("Is the poster signed?")

    page.get_by_label("Your email").fill("ada@example.com")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    [email] = mailoutbox
    assert email.reply_to == ["ada@example.com"]
    assert "De La Soul hoodie" in email.body


def test_staff_curate_a_band_and_its_merch_in_the_admin(
    live_server, page, django_user_model, transactional_db
):
    django_user_model.objects.create_superuser("staff", "staff@example.com", "a-Long-pass-123")
    BandFactory.create_batch(30)  # the band picker has to search, not scroll
    csp_errors = []
    page.on(
        "console",
        lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.goto(live_server.url + "/admin/")
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("a-Long-pass-123")
    page.get_by_role("button", name="Log in").click()

    page.goto(live_server.url + "/admin/listings/band/add/")
    page.get_by_label("Name").fill("Cut Copy")
    page.get_by_label("Genre").select_option(label="Synth Pop")
    page.get_by_label("Year formed").fill("2001")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    page.goto(live_server.url + "/admin/listings/listing/add/")
    page.get_by_label("Title").fill("Cut Copy t-shirt")
    page.get_by_label("Type").select_option("Clothing")
    page.locator(".field-band .select2-selection").click()
    page.locator(".select2-search__field").fill("cut")
    page.locator(".select2-results__option", has_text="Cut Copy").click()
    page.get_by_role("button", name="Save", exact=True).click()
    row = page.locator("#result_list tbody tr", has_text="Cut Copy t-shirt")
    expect(row.locator("td.field-band")).to_have_text("Cut Copy")

    band = Band.objects.get(name="Cut Copy")
    page.goto(live_server.url + f"/admin/listings/band/{band.pk}/delete/")
    page.get_by_role("button", name="Yes, I’m sure").click()
    expect(page.locator(".messagelist")).to_contain_text("was deleted successfully")

    page.goto(live_server.url + "/admin/listings/listing/?has_band=no")
    row = page.locator("#result_list tbody tr", has_text="Cut Copy t-shirt")
    expect(row.locator("td.field-band")).to_have_text("-")
    assert Listing.objects.get(title="Cut Copy t-shirt").band is None
    assert csp_errors == []


def test_staff_import_a_csv_fix_a_bad_row_and_fans_see_the_new_merch(
    live_server, page, django_user_model, transactional_db, tmp_path
):
    user = django_user_model.objects.create_user(
        "helper", password="a-Long-pass-123", is_staff=True
    )
    user.groups.add(sync_shop_staff())
    BandFactory(name="Björk")
    page.goto(live_server.url + "/admin/")
    page.get_by_label("Username").fill("helper")
    page.get_by_label("Password").fill("a-Long-pass-123")
    page.get_by_role("button", name="Log in").click()

    page.goto(live_server.url + "/admin/listings/listing/")
    page.get_by_role("link", name="Import").click()
    bad = tmp_path / "supplier.csv"
    bad.write_text(
        "title,band,type,year,price,sold,published\n"
        "Homogenic LP,bjork,Records,1997,30.00,0,1\n"
        "Tour mug,bjork,Mugs,,9.00,0,1\n"
    )
    page.get_by_label("File to import").set_input_files(str(bad))
    page.get_by_label("Format").select_option(label="csv")
    page.get_by_role("button", name="Import (a preview comes first)").click()
    expect(page.locator("body")).to_contain_text("Unknown value “Mugs”")
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)
    assert not Listing.objects.exists()  # nothing written

    fixed = tmp_path / "supplier-fixed.csv"
    fixed.write_text(bad.read_text().replace("Mugs", "Misc"))
    page.get_by_label("File to import").set_input_files(str(fixed))
    page.get_by_label("Format").select_option(label="csv")
    page.get_by_role("button", name="Import (a preview comes first)").click()
    expect(page.locator("body")).to_contain_text("Homogenic LP")
    page.get_by_role("button", name="Confirm import").click()
    expect(page.locator(".messagelist")).to_contain_text("Import finished")
    assert Listing.objects.count() == 2

    band = Band.objects.get(name="Björk")
    page.goto(live_server.url + band.get_absolute_url())
    expect(page.locator("main")).to_contain_text("Homogenic LP")
    expect(page.locator("main")).to_contain_text("Tour mug")
    page.goto(live_server.url + "/listings/?type=Records")
    expect(page.locator("main")).to_contain_text("Homogenic LP")


# Page quality


def test_public_pages_pass_axe_and_fit_the_screen(live_server, audit_page, shop):
    failures = {}
    for name, path in public_pages(shop).items():
        audit_page.goto(live_server.url + path)
        audit_page.add_script_tag(path=str(AXE))
        result = audit_page.evaluate(
            "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
        )
        violations = [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
        overflow = audit_page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"
        )
        # Every picture loaded so far (lazy ones below the fold have not been asked for) shows.
        broken = audit_page.evaluate(
            "() => [...document.images].filter(i => i.complete && i.naturalWidth === 0)"
            ".map(i => i.currentSrc || i.src)"
        )
        if violations or overflow > 0 or broken:
            failures[name] = {
                "violations": violations,
                "horizontal overflow px": overflow,
                "broken pictures": broken,
            }
    assert failures == {}


def test_contact_errors_pass_axe_and_take_the_focus(live_server, audit_page, shop):
    audit_page.goto(live_server.url + "/contact/")
    audit_page.get_by_role("button", name="Send message").click()
    expect(audit_page.get_by_role("alert")).to_contain_text("Please correct the fields")
    assert audit_page.evaluate("() => document.activeElement.id") == "id_name"
    audit_page.add_script_tag(path=str(AXE))
    result = audit_page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]] == []
    audit_page.get_by_role("link", name="Your email: This field is required.").click()
    assert audit_page.evaluate("() => document.activeElement.id") == "id_email"


def luminance(css_color):
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css_color)[:3])
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one, other):
    light, dark = sorted([luminance(one), luminance(other)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_header_focus_ring_stands_out_and_headings_have_room(live_server, page, shop):
    for path in ["/", "/bands/"]:
        page.goto(live_server.url + path)
        page.keyboard.press("Tab")  # the skip link
        page.keyboard.press("Tab")  # the brand, in the dark header
        focused = page.evaluate(
            "() => { const e = document.activeElement; return [e.closest('.site-header') !== null,"
            " getComputedStyle(e).outlineColor, getComputedStyle(e).outlineStyle] }"
        )
        in_header, outline, style = focused
        assert in_header
        assert style != "none"
        background = page.locator(".site-header").evaluate(
            "e => getComputedStyle(e).backgroundColor"
        )
        assert contrast(outline, background) >= 3, (outline, background)
        room = page.evaluate(
            "() => document.querySelector('main h1').getBoundingClientRect().top"
            " - document.querySelector('main').getBoundingClientRect().top"
        )
        assert room >= 16, f"{path}: {room} px above the heading"


def test_public_pages_are_valid_html(live_server, page, shop, tmp_path):
    """The Nu HTML Checker finds no error in any page as served, nor in the stylesheet.

    The HTML is the same at every width (the stylesheet adapts), so each page is checked once."""
    files = []
    for name, path in public_pages(shop).items():
        response = page.goto(live_server.url + path)
        body = response.body()
        file = tmp_path / f"{hashlib.sha1(name.encode()).hexdigest()[:8]}.html"
        file.write_bytes(body)
        files.append(str(file))
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr)["messages"]
    assert messages == []
    css = subprocess.run(
        [
            "java",
            "-jar",
            str(VNU),
            "--css",
            "--errors-only",
            "--format",
            "json",
            str(settings.BASE_DIR / "static" / "css" / "site.css"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert json.loads(css.stderr)["messages"] == []
