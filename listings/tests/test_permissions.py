"""Who may write: every identity against every admin page, action and POST endpoint.

Each case tries a real write and then asks the database whether it happened, so a case can
only pass if the permission check holds (or, for those allowed, if the write really works).
"""

import pytest
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.urls import reverse

from listings.models import Band, Listing
from listings.roles import SHOP_STAFF
from listings.tests.admin_forms import FORM_DEFAULTS
from listings.tests.factories import BandFactory, ListingFactory

pytestmark = pytest.mark.django_db

IDENTITIES = ["anonymous", "fan", "staff", "view-only staff", "shop staff", "superuser"]
CATALOGUE_WRITERS = {"shop staff", "superuser"}
CATALOGUE_READERS = {"view-only staff", "shop staff", "superuser"}
ACCOUNT_WRITERS = {"superuser"}


def admin_url(model, view, *args):
    return reverse(admin_urlname(model._meta, view), args=args)


@pytest.fixture
def login_as(client, django_user_model):
    def login(identity):
        if identity == "anonymous":
            return client
        user = django_user_model.objects.create_user(
            identity.replace(" ", "-"),
            password="pw-for-test-only",
            is_staff=identity != "fan",
            is_superuser=identity == "superuser",
        )
        if identity == "view-only staff":
            user.user_permissions.set(
                Permission.objects.filter(codename__in=["view_band", "view_listing"])
            )
        if identity == "shop staff":
            user.groups.add(Group.objects.get(name=SHOP_STAFF))
        client.force_login(user)
        return client

    return login


@pytest.fixture
def catalogue(db):
    band = BandFactory(name="De La Soul", genre="HH", year_formed=1988)
    listings = ListingFactory.create_batch(3, band=band, sold=False)
    return band, listings


BAND_FORM = {
    "name": "Cut Copy",
    "genre": "SP",
    "year_formed": 2001,
    "biography": "",
    "official_homepage": "",
    "active": "on",
    "listings-TOTAL_FORMS": "0",
    "listings-INITIAL_FORMS": "0",
}


WRITE_NAMES = [
    "add band",
    "change band",
    "add listing",
    "change listing",
    "delete listing",
    "delete band",
    "action mark_sold",
    "action mark_sold, select across",
    "action delete_selected",
]


def write_attempts(band, listings):
    """(name, url, data, did_it_happen) for every way staff can change the catalogue."""
    first = listings[0]
    ids = [item.pk for item in listings]
    return [
        (
            "add band",
            admin_url(Band, "add"),
            BAND_FORM,
            lambda: Band.objects.filter(name="Cut Copy").exists(),
        ),
        (
            "change band",
            admin_url(Band, "change", band.pk),
            {**BAND_FORM, "name": "De La Soul!"},
            lambda: Band.objects.filter(name="De La Soul!").exists(),
        ),
        (
            "add listing",
            admin_url(Listing, "add"),
            {"title": "New tee", "type": "Clothing", "description": "", **FORM_DEFAULTS},
            lambda: Listing.objects.filter(title="New tee").exists(),
        ),
        (
            "change listing",
            admin_url(Listing, "change", first.pk),
            {
                "title": "Renamed",
                "type": "Clothing",
                "description": "",
                "band": band.pk,
                **FORM_DEFAULTS,
            },
            lambda: Listing.objects.filter(title="Renamed").exists(),
        ),
        (
            "delete listing",
            admin_url(Listing, "delete", first.pk),
            {"post": "yes"},
            lambda: not Listing.objects.filter(pk=first.pk).exists(),
        ),
        (
            "delete band",
            admin_url(Band, "delete", band.pk),
            {"post": "yes"},
            lambda: not Band.objects.filter(pk=band.pk).exists(),
        ),
        (
            "action mark_sold",
            admin_url(Listing, "changelist"),
            {"action": "mark_sold", "_selected_action": ids},
            lambda: Listing.objects.filter(sold=True).exists(),
        ),
        (
            "action mark_sold, select across",
            admin_url(Listing, "changelist"),
            {"action": "mark_sold", "_selected_action": ids[:1], "select_across": "1"},
            lambda: Listing.objects.filter(sold=True).exists(),
        ),
        (
            "action delete_selected",
            admin_url(Listing, "changelist"),
            {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
            lambda: Listing.objects.count() < len(listings),
        ),
    ]


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("attempt", WRITE_NAMES)
def test_only_shop_staff_and_superusers_change_the_catalogue(
    login_as, catalogue, identity, attempt
):
    band, listings = catalogue
    attempts = write_attempts(band, listings)
    assert [a[0] for a in attempts] == WRITE_NAMES
    name, url, data, happened = next(a for a in attempts if a[0] == attempt)
    client = login_as(identity)
    response = client.post(url, data)
    assert response.status_code in (200, 302, 403)
    assert happened() is (identity in CATALOGUE_WRITERS), f"{identity}: {name}"


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("model", [Band, Listing])
def test_who_sees_the_catalogue_in_the_admin(login_as, catalogue, identity, model):
    band, listings = catalogue
    client = login_as(identity)
    obj = band if model is Band else listings[0]
    pages = [
        admin_url(model, "changelist"),
        admin_url(model, "change", obj.pk),
        admin_url(model, "history", obj.pk),
    ]
    for url in pages:
        response = client.get(url)
        if identity in CATALOGUE_READERS:
            assert response.status_code == 200, f"{identity}: {url}"
        elif identity in ("anonymous", "fan"):
            assert response.status_code == 302
            assert "/admin/login/" in response["Location"]
        else:
            assert response.status_code == 403, f"{identity}: {url}"


@pytest.mark.parametrize("identity", IDENTITIES)
def test_view_only_staff_are_offered_no_write_actions(login_as, catalogue, identity):
    client = login_as(identity)
    response = client.get(admin_url(Listing, "changelist"))
    if identity not in CATALOGUE_READERS:
        assert response.status_code in (302, 403)
        return
    form = response.context["action_form"]  # None when no action is offered
    offered = {value for value, _ in form.fields["action"].choices if value} if form else set()
    if identity in CATALOGUE_WRITERS:
        assert offered == {
            "delete_selected",
            "mark_sold",
            "mark_available",
            "publish",
            "unpublish",
            "feature",
            "unfeature",
        }
    else:
        assert offered == set()


@pytest.mark.parametrize("identity", IDENTITIES)
def test_only_superusers_manage_accounts_and_groups(login_as, django_user_model, identity):
    client = login_as(identity)
    client.post(
        reverse("admin:auth_user_add"),
        {"username": "intruder", "password1": "Zq8-long-pass", "password2": "Zq8-long-pass"},
    )
    client.post(reverse("admin:auth_group_add"), {"name": "Owners", "permissions": []})
    shop_staff = Group.objects.get(name=SHOP_STAFF)
    client.post(
        reverse("admin:auth_group_change", args=[shop_staff.pk]),
        {"name": SHOP_STAFF, "permissions": list(Permission.objects.values_list("pk", flat=True))},
    )
    allowed = identity in ACCOUNT_WRITERS
    assert django_user_model.objects.filter(username="intruder").exists() is allowed
    assert Group.objects.filter(name="Owners").exists() is allowed
    widened = shop_staff.permissions.count() == Permission.objects.count()
    assert widened is allowed


def test_shop_staff_have_exactly_the_catalogues_permissions():
    codenames = set(
        Group.objects.get(name=SHOP_STAFF).permissions.values_list("codename", flat=True)
    )
    assert codenames == {
        f"{action}_{model}"
        for action in ("add", "change", "delete", "view")
        for model in ("band", "listing", "listingphoto", "variant", "infopage")
    } | {  # orders to see and ship, rates to edit, stock history to read; never refunds
        "view_order",
        "change_order",
        "view_orderline",
        "view_shippingregion",
        "change_shippingregion",
        "view_stockchange",
    }


@pytest.mark.parametrize("identity", IDENTITIES)
def test_anyone_may_post_the_contact_form_and_nothing_else_public(login_as, catalogue, identity):
    client = login_as(identity)
    response = client.post(
        reverse("listings:contact"),
        {"name": "Ada", "email": "ada@example.com", "message": "Is the tee in XL?"},
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    band, listings = catalogue
    before = list(Listing.objects.order_by("pk").values())
    for url in [
        reverse("listings:home"),
        band.get_absolute_url(),
        listings[1].get_absolute_url(),
        reverse("listings:listing-list"),
        reverse("listings:search"),
    ]:
        client.post(url, {"title": "Hacked", "sold": "on"})
    assert list(Listing.objects.order_by("pk").values()) == before


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize(
    "url",
    [
        "/admin/axes/accessattempt/",
        "/admin/axes/accesslog/",
        "/admin/otp_totp/totpdevice/",
        "/admin/otp_static/staticdevice/",
        "/admin/auth/user/",
        "/admin/auth/group/",
    ],
)
def test_only_superusers_see_accounts_lockouts_and_sign_in_devices(login_as, identity, url):
    response = login_as(identity).get(url)
    if identity == "superuser":
        assert response.status_code == 200
    elif identity in ("anonymous", "fan"):
        assert response.status_code == 302
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("identity", IDENTITIES)
def test_only_catalogue_readers_may_look_up_bands(login_as, catalogue, identity):
    """The band picker's autocomplete lists band names: staff who may see listings only."""
    response = login_as(identity).get(
        reverse("admin:autocomplete"),
        {"app_label": "listings", "model_name": "listing", "field_name": "band", "term": "de"},
    )
    if identity in CATALOGUE_READERS:
        assert response.status_code == 200
        assert response.json()["results"][0]["text"] == "De La Soul"
    else:
        assert response.status_code in (302, 403)
