"""Featured bands and merch: staff put them forward on the home page, in their order."""

import re

import pytest
from django.urls import reverse

from listings.models import Band, Listing
from listings.tests.factories import BandFactory, ListingFactory

pytestmark = pytest.mark.django_db


def home_titles(client, section):
    """The names shown in a section of the home page, from its HTML (cached or not)."""
    page = client.get("/").text
    part = page.split(f'id="home-{section}"')[1].split("</section>")[0]
    return re.findall(r'class="card-title"[^>]*>([^<]+)</h', part)


def test_featured_merch_comes_first_in_the_staffs_order(client):
    ListingFactory(title="Newest, not featured", band=None)
    second = ListingFactory(title="Second", band=None, featured_position=2)
    ListingFactory(title="First", band=None, featured_position=1)
    ListingFactory(title="Sold", band=None, featured_position=3, sold=True)
    ListingFactory(title="Draft", band=None, featured_position=4, published=False)
    page = client.get("/").text
    assert page.index("Featured merch") < page.index("New in the shop")
    assert home_titles(client, "featured") == ["First", "Second"]  # for sale and published
    second.featured_position = None
    second.save()
    assert home_titles(client, "featured") == ["First"]  # fresh at once


def test_no_featured_section_without_featured_merch(client):
    ListingFactory(title="Plain", band=None)
    assert "Featured merch" not in client.get("/").text


def test_featured_bands_come_before_the_alphabet(client):
    for name in ["Abba", "Blur", "Cure", "Doors", "Eels", "Faust", "Gorillaz", "Hole", "Idles"]:
        BandFactory(name=name)
    BandFactory(name="Zappa", featured_position=1)
    BandFactory(name="Yes", featured_position=2)
    BandFactory(name="Xiu Xiu", featured_position=3, published=False)
    names = home_titles(client, "bands")
    assert names[:2] == ["Zappa", "Yes"]
    assert names[2:] == ["Abba", "Blur", "Cure", "Doors", "Eels", "Faust"]


@pytest.mark.parametrize("model", ["listing", "band"])
def test_staff_feature_in_bulk_after_those_featured_already(admin_client, model):
    if model == "listing":
        made = [ListingFactory(title=f"Item {n}", band=None) for n in range(3)]
        made[0].featured_position = 5
        made[0].save()
        manager = Listing.objects
    else:
        made = [BandFactory(name=f"Band {n}") for n in range(3)]
        made[0].featured_position = 5
        made[0].save()
        manager = Band.objects
    changelist = reverse(f"admin:listings_{model}_changelist")
    response = admin_client.post(
        changelist,
        {"action": "feature", "_selected_action": [obj.pk for obj in made]},
        follow=True,
    )
    assert "2 " in response.text
    positions = sorted(manager.values_list("featured_position", flat=True))
    assert positions == [5, 6, 7]
    admin_client.post(
        changelist, {"action": "unfeature", "_selected_action": [made[1].pk, made[2].pk]}
    )
    assert sorted(manager.exclude(featured_position=None).values_list("pk", flat=True)) == [
        made[0].pk
    ]
    featured = admin_client.get(changelist, {"featured": "yes"}).context["cl"].result_list
    assert [obj.pk for obj in featured] == [made[0].pk]


@pytest.mark.parametrize("model", ["listing", "band"])
def test_featuring_past_the_last_home_page_position_changes_nothing(admin_client, model):
    """Positions are small integers (up to 32,767): PostgreSQL refused the next one, a 500."""
    if model == "listing":
        made = [ListingFactory(title=f"Item {n}", band=None) for n in range(3)]
    else:
        made = [BandFactory(name=f"Band {n}") for n in range(3)]
    made[0].featured_position = 32_766
    made[0].save()
    changelist = reverse(f"admin:listings_{model}_changelist")
    chosen = {"action": "feature", "_selected_action": [obj.pk for obj in made]}
    response = admin_client.post(changelist, chosen, follow=True)
    assert response.status_code == 200
    assert "Only 1 more can be featured" in response.text
    positions = type(made[0]).objects.exclude(featured_position=None)
    assert list(positions.values_list("featured_position", flat=True)) == [32_766]


def test_the_home_page_opens_with_the_first_featured_item_with_a_picture(client):
    from listings.tests.factories import ListingPhotoFactory

    plain = ListingFactory(title="No picture", featured_position=1)
    pictured = ListingFactory(title="Tour poster", featured_position=2)
    ListingPhotoFactory(listing=pictured, alt_text="The poster")
    page = client.get("/").text
    hero = page.split('class="hero"')[1].split("</section>")[0]
    assert "Tour poster" in hero
    assert 'fetchpriority="high"' in hero  # the page's largest picture, fetched first
    assert plain.title not in hero
    assert page.count('fetchpriority="high"') == 1
