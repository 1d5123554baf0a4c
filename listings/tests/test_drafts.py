"""Drafts: bands and listings staff are still preparing, or took off the shop, are on no fan
page, count, search, sitemap or contact form; their pages answer 404 to fans; staff signed in
preview them, marked as drafts, never cached for fans."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from listings.models import Band, Listing
from listings.roles import sync_shop_staff
from listings.tests.factories import BandFactory, ListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    """A published band with one published and one draft listing, a draft band with one
    published listing, and a published orphan."""
    band = BandFactory(name="Published Band")
    draft_band = BandFactory(name="Draft Band", published=False)
    return {
        "band": band,
        "draft_band": draft_band,
        "shown": ListingFactory(title="Shown tee", band=band, type="Clothing"),
        "draft": ListingFactory(title="Draft tee", band=band, type="Clothing", published=False),
        "hidden_by_band": ListingFactory(title="Hidden poster", band=draft_band, type="Posters"),
        "orphan": ListingFactory(title="Orphan record", band=None, type="Records"),
    }


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_user("helper", is_staff=True)
    user.groups.add(sync_shop_staff())
    client.force_login(user)
    return client


HIDDEN = ["Draft tee", "Hidden poster", "Draft Band"]


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/bands/",
        "/listings/",
        "/listings/?type=Clothing",
        "/search/?q=tee",
        "/search/?q=draft",
        "/search/?q=poster",
        "/sitemap-bands.xml",
        "/sitemap-listings.xml",
    ],
)
def test_drafts_are_on_no_fan_list(client, shop, url):
    page = client.get(url).text
    for title in HIDDEN:
        assert title not in page
    assert shop["draft"].get_absolute_url() not in page


def test_the_band_page_lists_published_listings_only(client, shop):
    response = client.get(shop["band"].get_absolute_url())
    assert "Shown tee" in response.text
    assert "Draft tee" not in response.text
    assert response.context["page_obj"].paginator.count == 1


def test_counts_leave_drafts_out(client, shop):
    assert client.get("/listings/").context["page_obj"].paginator.count == 2  # tee, record
    assert client.get("/bands/").context["page_obj"].paginator.count == 1


@pytest.mark.parametrize("name", ["draft", "hidden_by_band", "draft_band"])
def test_a_draft_page_answers_404_to_fans(client, shop, name):
    url = shop[name].get_absolute_url()
    assert client.get(url).status_code == 404
    # The short URL, which redirects to the canonical one, does not reveal the draft either.
    short = url.split("-")[0] + "/"
    assert client.get(short).status_code == 404


@pytest.mark.parametrize(("name", "why"), [("draft", ""), ("hidden_by_band", "its band")])
def test_staff_preview_a_draft_marked_as_such_and_never_cached(
    client, staff_client, shop, name, why
):
    url = shop[name].get_absolute_url()
    response = staff_client.get(url)
    assert response.status_code == 200
    assert "Draft preview." in response.text
    assert why in response.text
    assert '<meta name="robots" content="noindex">' in response.text
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert "ETag" not in response
    staff_client.logout()
    assert client.get(url).status_code == 404  # fans still meet a 404, not the preview


def test_staff_see_published_pages_without_the_draft_mark(staff_client, shop):
    response = staff_client.get(shop["shown"].get_absolute_url())
    assert response.status_code == 200
    assert "Draft preview." not in response.text


def test_a_fan_account_is_no_staff(client, shop):
    client.force_login(get_user_model().objects.create_user("fan"))
    assert client.get(shop["draft"].get_absolute_url()).status_code == 404


def test_publishing_shows_the_page_at_once(client, shop):
    url = shop["draft"].get_absolute_url()
    assert client.get(url).status_code == 404
    assert "Draft tee" not in client.get("/listings/").text
    shop["draft"].published = True
    shop["draft"].save()
    assert client.get(url).status_code == 200
    assert "Draft tee" in client.get("/listings/").text
    shop["draft_band"].published = True
    shop["draft_band"].save()
    assert client.get(shop["hidden_by_band"].get_absolute_url()).status_code == 200


def test_unpublishing_hides_a_cached_page_at_once(client, shop):
    url = shop["shown"].get_absolute_url()
    assert client.get(url).status_code == 200
    assert client.get(url)["X-Cache"] == "hit"
    shop["band"].published = False
    shop["band"].save()
    assert client.get(url).status_code == 404
    assert "Shown tee" not in client.get("/listings/").text


def test_the_contact_form_cannot_name_a_draft(client, shop, mailoutbox):
    draft = shop["draft"]
    assert "Draft tee" not in client.get("/contact/", {"listing": draft.pk}).text
    data = {"name": "Ada", "email": "ada@example.com", "message": "Hi", "listing": draft.pk}
    response = client.post("/contact/", data)
    assert response.status_code == 200
    assert mailoutbox == []


def test_existing_rows_are_published_by_the_migration():
    band = Band.objects.create(name="Old", genre="RO", year_formed=1990)
    listing = Listing.objects.create(title="Old tee", type="Clothing", band=band)
    assert band.published
    assert listing.published


# The admin: bulk actions, the filter and the column.


@pytest.mark.parametrize(("model", "name"), [("listing", "draft"), ("band", "draft_band")])
def test_bulk_actions_publish_and_unpublish(admin_client, shop, model, name):
    changelist = reverse(f"admin:listings_{model}_changelist")
    obj = shop[name]
    response = admin_client.post(
        changelist, {"action": "publish", "_selected_action": [obj.pk]}, follow=True
    )
    assert "1 " in response.text
    assert "published." in response.text
    obj.refresh_from_db()
    assert obj.published
    admin_client.post(changelist, {"action": "unpublish", "_selected_action": [obj.pk]})
    obj.refresh_from_db()
    assert not obj.published


def test_the_listing_changelist_filters_drafts_and_listings_without_a_band(admin_client, shop):
    changelist = reverse("admin:listings_listing_changelist")
    drafts = admin_client.get(changelist, {"published__exact": "0"})
    assert [row.title for row in drafts.context["cl"].result_list] == ["Draft tee"]
    orphans = admin_client.get(changelist, {"has_band": "no"})
    assert [row.title for row in orphans.context["cl"].result_list] == ["Orphan record"]


def test_view_only_staff_cannot_publish(client, shop):
    user = get_user_model().objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_listing", "view_band"])
    )
    client.force_login(user)
    changelist = reverse("admin:listings_listing_changelist")
    client.post(changelist, {"action": "publish", "_selected_action": [shop["draft"].pk]})
    shop["draft"].refresh_from_db()
    assert not shop["draft"].published
