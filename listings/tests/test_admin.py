import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.urls import reverse

from listings.models import Band, Listing
from listings.roles import sync_shop_staff
from listings.tests.admin_forms import FORM_DEFAULTS, change_form_data
from listings.tests.factories import BandFactory, ListingFactory

pytestmark = pytest.mark.django_db


def admin_url(model, view, *args):
    return reverse(admin_urlname(model._meta, view), args=args)


def test_listing_changelist_shows_the_band_name(admin_client, listing):
    response = admin_client.get(admin_url(Listing, "changelist"))
    assert response.status_code == 200
    assert "column-band" in response.text
    assert '<td class="field-band nowrap">De La Soul</td>' in response.text


def test_listing_changelist_says_what_fans_see_of_each_listing(admin_client, band):
    draft_band = BandFactory(name="Unreleased", published=False)
    rows = {
        "On sale": ListingFactory(band=band),
        "Sold out": ListingFactory(band=band, sold=True),
        "Draft": ListingFactory(band=band, published=False, sold=True),
        "Hidden: its band is a draft": ListingFactory(band=draft_band),
    }
    page = admin_client.get(admin_url(Listing, "changelist")).text
    for status, listing in rows.items():
        row = re.search(rf'value="{listing.pk}".*?</tr>', page, re.S).group()
        assert f'<td class="field-status">{status}</td>' in row


def test_band_changelist_counts_listings(admin_client, band):
    ListingFactory.create_batch(3, band=band)
    response = admin_client.get(admin_url(Band, "changelist"))
    assert '<td class="field-listing_count">3</td>' in response.text


def test_add_listing_choosing_a_band(admin_client, band):
    response = admin_client.post(
        admin_url(Listing, "add"),
        {
            "title": "De La Soul cap",
            "type": "Clothing",
            "band": band.pk,
            "description": "",
            **FORM_DEFAULTS,
        },
    )
    assert response.status_code == 302
    assert Listing.objects.get(title="De La Soul cap").band == band


def test_listing_form_uses_autocomplete_for_band(admin_client, band):
    response = admin_client.get(admin_url(Listing, "add"))
    assert "admin-autocomplete" in response.text
    # Only the chosen band (none yet) is rendered, never one <option> per band.
    BandFactory.create_batch(20)
    response = admin_client.get(admin_url(Listing, "add"))
    assert response.text.count("<option") < 10


def test_orphan_listing_can_be_edited_and_saved(admin_client):
    orphan = ListingFactory(band=None, title="Lanyard")
    response = admin_client.post(
        admin_url(Listing, "change", orphan.pk),
        {
            "title": "Festival lanyard",
            "type": "Misc",
            "band": "",
            "description": "",
            **FORM_DEFAULTS,
        },
    )
    assert response.status_code == 302
    orphan.refresh_from_db()
    assert orphan.title == "Festival lanyard"
    assert orphan.band is None


def test_band_autocomplete_returns_band_names(admin_client, band):
    BandFactory(name="Foo Fighters")
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "listings", "model_name": "listing", "field_name": "band", "term": "de la"},
    )
    assert response.json()["results"] == [{"id": str(band.pk), "text": "De La Soul"}]


def test_orphan_filter(admin_client, listing):
    ListingFactory(title="Festival lanyard", band=None)
    orphans = admin_client.get(admin_url(Listing, "changelist"), {"has_band": "no"})
    assert [item.title for item in orphans.context["cl"].result_list] == ["Festival lanyard"]
    with_band = admin_client.get(admin_url(Listing, "changelist"), {"has_band": "yes"})
    assert [item.title for item in with_band.context["cl"].result_list] == [listing.title]


def test_search_listings_by_band_name(admin_client, listing):
    ListingFactory(title="Other poster", band=BandFactory(name="Cut Copy"))
    response = admin_client.get(admin_url(Listing, "changelist"), {"q": "soul"})
    assert [item.title for item in response.context["cl"].result_list] == [listing.title]


@pytest.mark.parametrize(
    ("action", "start", "end"), [("mark_sold", False, True), ("mark_available", True, False)]
)
def test_bulk_actions_set_sold(admin_client, band, action, start, end):
    chosen = ListingFactory.create_batch(3, band=band, sold=start)
    untouched = ListingFactory(band=band, sold=start)
    response = admin_client.post(
        admin_url(Listing, "changelist"),
        {"action": action, "_selected_action": [item.pk for item in chosen]},
        follow=True,
    )
    assert "3 listings marked as" in response.text
    assert Listing.objects.filter(pk__in=[item.pk for item in chosen], sold=end).count() == 3
    untouched.refresh_from_db()
    assert untouched.sold is start


def test_band_page_edits_its_listings_inline(admin_client, listing):
    response = admin_client.get(admin_url(Band, "change", listing.band.pk))
    assert 'name="listings-0-title"' in response.text
    assert listing.title in response.text


def test_listing_has_view_on_site(admin_client, listing):
    response = admin_client.get(admin_url(Listing, "change", listing.pk))
    assert (
        reverse("admin:view_on_site", args=[response.context["content_type_id"], listing.pk])
        in response.text
    )


@pytest.mark.parametrize("model", [Listing, Band])
def test_shop_staff_changelists_cost_five_queries(
    client, django_user_model, make_catalogue, django_assert_num_queries, model
):
    """User, their own permissions, their groups' permissions, count, page (the session is
    read from the cache)."""
    user = django_user_model.objects.create_user("helper", is_staff=True)
    user.groups.add(sync_shop_staff())
    client.force_login(user)
    make_catalogue(bands=20, per_band=2)
    with django_assert_num_queries(5):
        response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    assert "Import" in response.text  # the buttons cost no query


def test_permissions_come_from_the_user_and_their_groups(django_user_model):
    user = django_user_model.objects.create_user("helper", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_band"))
    user.groups.add(sync_shop_staff())
    user = django_user_model.objects.get(pk=user.pk)
    assert user.has_perm("listings.view_band")
    assert user.has_perm("listings.change_listing")  # from the group
    assert not user.has_perm("auth.change_user")
    user.groups.clear()
    user = django_user_model.objects.get(pk=user.pk)
    assert not user.has_perm("listings.change_listing")


def test_admin_requires_staff(client, django_user_model):
    user = django_user_model.objects.create_user("fan", password="pw-for-test-only")
    client.force_login(user)
    response = client.get(admin_url(Listing, "changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# Admin list pages: user, one count and one page query (the session comes from the cache);
# never one query per row.
@pytest.mark.parametrize(("model", "queries"), [(Listing, 3), (Band, 3)])
@pytest.mark.parametrize(("bands", "per_band"), [(3, 2), (120, 2)])
def test_admin_changelist_query_count_is_constant(
    admin_client, make_catalogue, django_assert_num_queries, model, queries, bands, per_band
):
    make_catalogue(bands=bands, per_band=per_band)
    admin_client.get(admin_url(model, "changelist"))  # the session back in the cache
    with django_assert_num_queries(queries):
        response = admin_client.get(admin_url(model, "changelist"))
    assert response.status_code == 200


# Big bands: the change page shows the newest listings only and saves however large the band.


@pytest.fixture
def big_band(band):
    def grow(size):
        Listing.objects.bulk_create(
            Listing(title=f"Tee {n:05}", type="Clothing", band=band) for n in range(size)
        )
        return band

    return grow


def test_band_change_page_size_and_queries_do_not_grow_with_the_band(
    admin_client, big_band, django_assert_num_queries
):
    sizes = {}
    admin_client.get(admin_url(Band, "changelist"))  # content types, cached per process
    for total in (30, 600):
        band = big_band(total - Listing.objects.count())
        admin_client.get(admin_url(Band, "change", band.pk))
        # User, the band with its listing count, the newest listings (session: the cache).
        with django_assert_num_queries(3):
            response = admin_client.get(admin_url(Band, "change", band.pk))
        rows = re.findall(r'name="listings-(\d+)-title"', response.text)
        assert rows == [str(n) for n in range(21)]  # the 20 newest and one blank row
        assert f"all {total:,} listings of this band" in response.text
        assert f"?band__id__exact={band.pk}" in response.text
        sizes[total] = len(response.content)
    assert sizes[600] < 200_000
    assert abs(sizes[600] - sizes[30]) < 200  # ids and the count in the link, nothing more


def test_a_band_with_10000_listings_is_saved_with_its_edits(admin_client, big_band, settings):
    band = big_band(10_000)
    page = admin_client.get(admin_url(Band, "change", band.pk))
    data = change_form_data(page)
    assert len(data) < settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    data["name"] = "De La Soul (the band)"
    data["listings-0-price"] = "25.00"
    edited = data["listings-0-id"]
    response = admin_client.post(admin_url(Band, "change", band.pk), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    band.refresh_from_db()
    assert band.name == "De La Soul (the band)"
    assert band.listings.count() == 10_000
    assert str(Listing.objects.get(pk=edited).price) == "25.00"


def test_an_edit_to_a_row_that_is_no_longer_among_the_newest_is_kept(admin_client, big_band):
    band = big_band(25)
    page = admin_client.get(admin_url(Band, "change", band.pk))
    data = change_form_data(page)
    ListingFactory.create_batch(3, band=band)  # someone adds listings while the page is open
    last = int(data["listings-TOTAL_FORMS"]) - 2  # the oldest row shown (the last one is blank)
    data[f"listings-{last}-title"] = "Renamed while others were added"
    response = admin_client.post(admin_url(Band, "change", band.pk), data)
    assert response.status_code == 302
    assert Listing.objects.filter(title="Renamed while others were added", band=band).exists()
    assert band.listings.count() == 28


# Everyday editing


def test_the_listing_list_is_read_not_a_form_and_each_row_is_named_by_its_title(admin_client, band):
    listing = ListingFactory(band=band, title="Tour poster")
    page = admin_client.get(admin_url(Listing, "changelist")).text
    assert 'name="form-0-price"' not in page  # prices on the listing's page, not 100 inputs
    link = f'<a href="{admin_url(Listing, "change", listing.pk)}">Tour poster</a>'
    assert f'<th class="field-title">{link}</th>' in page
    assert '<td class="field-thumbnail">' in page  # the picture is no second, nameless link


def test_band_search_and_picker_fold_accents(admin_client):
    bjork = BandFactory(name="Björk")
    BandFactory(name="Foo Fighters")
    found = admin_client.get(admin_url(Band, "changelist"), {"q": "bjork"})
    assert [b.name for b in found.context["cl"].result_list] == ["Björk"]
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "listings", "model_name": "listing", "field_name": "band", "term": "BJORK"},
    )
    assert response.json()["results"] == [{"id": str(bjork.pk), "text": "Björk"}]


def test_band_delete_confirmation_says_its_merch_stays(admin_client, band):
    ListingFactory.create_batch(3, band=band, sold=False)
    ListingFactory(band=band, sold=True)
    response = admin_client.get(admin_url(Band, "delete", band.pk))
    assert "4 listings of this band will stay in the shop" in response.text
    assert "3 of them still for sale" in response.text


# No silent overwrite: a form opened before someone else's save never undoes it.


@pytest.mark.parametrize("model", [Listing, Band])
def test_a_form_opened_before_another_save_never_undoes_it(admin_client, listing, model):
    obj = listing if model is Listing else listing.band
    url = admin_url(model, "change", obj.pk)
    opened = change_form_data(admin_client.get(url))  # staff A opens the form
    listing.sold, listing.price = True, Decimal("99.99")  # staff B: sold, a new price
    listing.save()
    obj.refresh_from_db()
    if model is Band:
        obj.biography = "B's new text"
        obj.save()
    field = "title" if model is Listing else "name"
    typed = {**opened, field: "A's fix", **FORM_DEFAULTS}
    answer = admin_client.post(url, typed)  # A saves a fix from the old form
    assert answer.status_code == 200
    assert "Someone else saved this" in answer.text
    assert "A&#x27;s fix" in answer.text  # what A typed is kept
    listing.refresh_from_db()
    obj.refresh_from_db()
    assert (listing.sold, listing.price) == (True, Decimal("99.99"))  # B's change stands
    assert getattr(obj, field) != "A's fix"
    again = {**change_form_data(answer), **FORM_DEFAULTS}  # A checks and saves again
    assert admin_client.post(url, again).status_code == 302
    obj.refresh_from_db()
    assert getattr(obj, field) == "A's fix"
    listing.refresh_from_db()
    assert (listing.sold, listing.price) == (True, Decimal("99.99"))  # and still stands


def test_an_inline_row_opened_before_another_save_never_undoes_it(admin_client, listing):
    url = admin_url(Band, "change", listing.band.pk)
    opened = change_form_data(admin_client.get(url))  # staff A opens the band
    listing.sold, listing.price = True, Decimal("99.99")  # staff B sells the listing
    listing.save()
    answer = admin_client.post(url, {**opened, "name": "A's fix"})  # A saves a band fix
    assert answer.status_code == 200
    assert "Someone else saved this listing" in answer.text
    assert "Price is now 99.99; Sold is now yes" in answer.text
    listing.refresh_from_db()
    assert (listing.sold, listing.price) == (True, Decimal("99.99"))
    listing.band.refresh_from_db()
    assert listing.band.name != "A's fix"
    assert admin_client.post(url, change_form_data(answer)).status_code == 302
    listing.band.refresh_from_db()
    assert listing.band.name == "A's fix"
    listing.refresh_from_db()
    assert (listing.sold, listing.price) == (True, Decimal("99.99"))


def test_the_listing_search_folds_case_and_accents(admin_client):
    bjork = BandFactory(name="Björk")
    ListingFactory(title="Vinyl", band=bjork)
    ListingFactory(title="Homogénic poster", band=None)
    ListingFactory(title="Unrelated", band=None)
    url = admin_url(Listing, "changelist")
    assert "Vinyl" in admin_client.get(url, {"q": "bjork"}).text
    assert "Vinyl" in admin_client.get(url, {"q": "VINYL björk"}).text  # title, then band
    assert "Vinyl" not in admin_client.get(url, {"q": "vinyl homogenic"}).text
    found = admin_client.get(url, {"q": "HOMOGENIC"}).text
    assert "Homogénic poster" in found
    assert "Unrelated" not in found


def test_a_listing_search_of_a_thousand_words_searches_the_first_twenty(admin_client):
    ListingFactory(title="Vinyl", band=BandFactory(name="Björk"))
    url = admin_url(Listing, "changelist")
    found = admin_client.get(url, {"q": " ".join(["vinyl"] * 20 + ["nowhere"] * 1200)})
    assert found.status_code == 200  # SQLite refuses a query of about 1,000 words
    assert "Vinyl" in found.text
    assert "Only the first 20 words were searched for." in found.text
    assert "were searched for" not in admin_client.get(url, {"q": "vinyl"}).text


def test_a_search_reads_past_control_characters(admin_client):
    ListingFactory(title="Vinyl", band=BandFactory(name="Björk"))
    found = admin_client.get(admin_url(Listing, "changelist"), {"q": "vin\x00yl"})
    assert "Vinyl" in found.text  # PostgreSQL refuses a NUL in a query: it was a 500
    term = {"app_label": "listings", "model_name": "listing", "field_name": "band"}
    picked = admin_client.get(reverse("admin:autocomplete"), {**term, "term": "bj\x00"})
    assert [band["text"] for band in picked.json()["results"]] == ["Björk"]


@pytest.mark.parametrize("value", ["0", "-1", "99999999999999999999", "\x00", "x" * 3000])
@pytest.mark.parametrize("lookup", ["id__in", "created_at__year", "o", "p", "q"])
def test_every_changelist_answers_a_filter_it_cannot_use_without_a_500(admin_client, lookup, value):
    ListingFactory(band=BandFactory(name="Björk"))
    for model in filter(admin.site.is_registered, apps.get_models()):
        url = admin_url(model, "changelist")
        assert admin_client.get(url, {lookup: value}).status_code in (200, 302), url


@pytest.mark.parametrize("chosen", ["abc", "", "1.5", "99999999999999999999"])
def test_an_action_on_rows_that_cannot_exist_changes_nothing_and_says_so(admin_client, chosen):
    listing = ListingFactory(band=BandFactory(name="Björk"))
    for model in filter(admin.site.is_registered, apps.get_models()):
        url = admin_url(model, "changelist")
        data = {"action": "delete_selected", "_selected_action": [listing.pk, chosen]}
        response = admin_client.post(url, data)
        assert response.status_code == 302, url
        assert "The rows chosen are not rows of this list." in admin_client.get(url).text
    assert Listing.objects.filter(pk=listing.pk).exists()


def test_an_action_posted_without_signing_in_is_sent_to_sign_in_whatever_its_rows(client):
    url = admin_url(Listing, "changelist")
    for chosen in ["abc", "1"]:
        data = {"action": "delete_selected", "_selected_action": [chosen]}
        response = client.post(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert "not rows of this list" not in client.get(reverse("admin:login")).text


@pytest.mark.parametrize("query", ["format=csv", "id__in=abc", "id__in=99999999999999999999"])
def test_an_export_of_a_list_filtered_by_what_it_cannot_use_goes_back_to_the_list(
    admin_client, query
):
    BandFactory(name="Björk")
    for model in [Band, Listing]:
        url = f"{admin_url(model, 'export')}?{query}"
        response = admin_client.get(url)
        if response.status_code == 200:  # the list is read when the file is asked for
            asked = {"format": "0", "resource": "0", f"{model.__name__.lower()}resource_id": "on"}
            response = admin_client.post(url, asked)
        if response.status_code == 200:  # PostgreSQL compares a too-large id: nothing matches
            assert connection.vendor == "postgresql"
            assert response["Content-Type"] == "text/csv"
            continue
        assert response.status_code == 302
        assert response["Location"] == admin_url(model, "changelist") + "?e=1"
        assert "That filter has a value" in admin_client.get(response["Location"]).text
    filtered = admin_client.get(admin_url(Listing, "export"), {"type__exact": "Misc"})
    assert filtered.status_code == 200


@pytest.mark.parametrize("band", ["abc", "99999999999999999999", "-1"])
def test_a_band_that_cannot_be_one_in_the_listing_form_is_no_band_not_a_500(admin_client, band):
    assert admin_client.get(admin_url(Listing, "add"), {"band": band}).status_code == 200
    form = change_form_data(admin_client.get(admin_url(Listing, "add")))
    data = {**form, "title": "Tee", "type": "Clothing", "band": band}
    response = admin_client.post(admin_url(Listing, "add"), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Listing.objects.exists()


@pytest.mark.parametrize("value", ["99999999999999999999", "[]"])
def test_every_admin_form_answers_a_value_no_row_can_have_without_a_500(admin_client, value):
    ListingFactory(band=BandFactory(name="Björk"))
    for model in filter(admin.site.is_registered, apps.get_models()):
        row = model.objects.first()
        urls = [admin_url(model, "add")] + ([admin_url(model, "change", row.pk)] if row else [])
        for url in urls:
            form = change_form_data(admin_client.get(url))
            for name in [name for name in form if name != "csrfmiddlewaretoken"]:
                response = admin_client.post(url, {**form, name: value})
                assert response.status_code in (200, 302), (url, name)


def test_a_form_posted_with_an_id_past_any_row_saves_nothing(admin_client):
    band = BandFactory(name="Björk")
    ListingFactory(band=band, title="Tee")
    url = admin_url(Band, "change", band.pk)
    form = change_form_data(admin_client.get(url))
    data = {**form, "name": "Bjork", "listings-0-id": "99999999999999999999"}
    assert "Please correct the error" in admin_client.post(url, data).text
    band.refresh_from_db()
    assert band.name == "Björk"
    # Django's own forms look such ids up unchecked: SQLite cannot, PostgreSQL finds none.
    data = {"name": "Crew", "permissions": ["99999999999999999999"]}
    answer = admin_client.post(reverse("admin:auth_group_add"), data, follow=True).text
    said = {"sqlite": "A number in the form is out of range", "postgresql": "Select a valid choice"}
    assert said[connection.vendor] in answer
    assert not Group.objects.filter(name="Crew").exists()


@pytest.mark.parametrize("opened", ["5", "[]", '"x"', "{"])
def test_a_change_form_whose_opening_state_was_damaged_says_so(admin_client, opened):
    band = BandFactory(name="Björk")
    url = admin_url(Band, "change", band.pk)
    form = change_form_data(admin_client.get(url))
    response = admin_client.post(url, {**form, "name": "Bjork", "opened": opened})
    assert "This form was damaged on the way" in response.text
    band.refresh_from_db()
    assert band.name == "Björk"


def test_a_filter_value_the_database_cannot_take_goes_back_to_the_list(admin_client):
    url = admin_url(Listing, "changelist")
    for query in [{"created_at__year": "0"}, {"created_at__year": "0", "e": "1"}]:
        response = admin_client.get(url, query)  # no year 0 in Python
        assert response.status_code == 302
        assert response["Location"] == f"{url}?e=1"
    shown = admin_client.get(response["Location"])
    assert "That filter has a value this list cannot use." in shown.text


def test_admin_words_staff_can_read(admin_client, client):
    home = admin_client.get("/admin/").text
    section = home.split(">Sign-in security</a>", 1)[1].split("</table>", 1)[0]
    for model in ["Access attempts", "TOTP devices", "Static devices"]:
        assert model in section  # one section for the three security apps
    assert home.count("Sign-in security") == 2  # its caption's title and text
    assert "AXES" not in home
    assert "OTP_TOTP" not in home
    export = admin_client.get(admin_url(Listing, "export")).text
    assert 'value="Export"' in export
    assert (
        'value="Import (a preview comes first)"'
        in admin_client.get(admin_url(Listing, "import")).text
    )
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 301
    assert favicon["Location"].endswith("favicon.svg")
