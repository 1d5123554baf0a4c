"""The shop's information pages: how buying works, shipping and returns, the privacy notice."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from listings.info_pages import BUYING, DEFAULTS, PRIVACY, SHIPPING, ensure_info_pages
from listings.models import InfoPage
from listings.roles import sync_shop_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pages():
    ensure_info_pages()  # a transactional test before this one may have emptied the table


@pytest.fixture
def shop_staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("helper", is_staff=True)
    user.groups.add(sync_shop_staff())
    client.force_login(user)
    return client


def test_the_migration_writes_the_three_pages():
    # The test database is built by the migrations; ensure_info_pages() found nothing to add.
    assert ensure_info_pages() == 0
    assert set(InfoPage.objects.values_list("slug", flat=True)) >= {BUYING, SHIPPING, PRIVACY}


@pytest.mark.parametrize("slug", list(DEFAULTS))
def test_each_page_reads_well_and_is_linked_from_every_page_footer(
    client, django_assert_num_queries, slug
):
    url = reverse("listings:info-page", args=[slug])
    with django_assert_num_queries(1):
        response = client.get(url)
    assert response.status_code == 200
    page = response.text
    assert f"<h1>{DEFAULTS[slug]['title']}</h1>" in page
    assert page.count("<p>") >= 2  # paragraphs, from the blank lines
    assert f'<link rel="canonical" href="http://testserver{url}">' in page
    assert f'content="{DEFAULTS[slug]["summary"]}"' in page  # description and og:description
    assert '"@type": "BreadcrumbList"' in page
    for fan_page in ["/", "/bands/", "/listings/", "/contact/", url]:
        assert f'href="{url}"' in client.get(fan_page).text, fan_page


def test_the_contact_form_links_the_privacy_notice(client):
    page = client.get(reverse("listings:contact")).text
    assert f'<a href="{reverse("listings:info-page", args=[PRIVACY])}">privacy notice</a>' in page


def test_an_edit_shows_at_once_whatever_makes_it(client):
    url = reverse("listings:info-page", args=[SHIPPING])
    client.get(url)
    InfoPage.objects.filter(slug=SHIPPING).update(body="We ship to the Moon.\n\nIn 3 days.")
    assert "<p>We ship to the Moon.</p>" in client.get(url).text
    with connection.cursor() as cursor:
        cursor.execute("UPDATE listings_infopage SET title = 'Moon' WHERE slug = %s", [SHIPPING])
    assert "<h1>Moon</h1>" in client.get(url).text


def test_text_is_escaped_and_addresses_become_links(client):
    InfoPage.objects.filter(slug=BUYING).update(
        body="<script>alert(1)</script>\n\nSee https://example.com/terms for the terms."
    )
    page = client.get(reverse("listings:info-page", args=[BUYING])).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    link = "https://example.com/terms"
    assert f'<a href="{link}" rel="nofollow">{link}</a>' in page


@pytest.mark.parametrize("path", ["/info/nothing-here/", "/info/%2E%2E/", "/info/privacy/extra/"])
def test_unknown_pages_answer_404(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "delete", "options"])
def test_pages_are_read_only(client, method):
    response = getattr(client, method)(reverse("listings:info-page", args=[PRIVACY]))
    assert response.status_code == 405


def test_shop_staff_edit_a_page_and_fans_read_it(client, shop_staff_client):
    page = InfoPage.objects.get(slug=PRIVACY)
    url = reverse("admin:listings_infopage_change", args=[page.pk])
    form = shop_staff_client.get(url)
    assert form.status_code == 200
    assert 'name="slug"' not in form.text  # the footer links it: its address stays
    response = shop_staff_client.post(
        url, {"title": "Your data", "summary": "What we keep.", "body": "Only your email."}
    )
    assert response.status_code == 302
    page.refresh_from_db()
    assert (page.slug, page.title) == (PRIVACY, "Your data")
    assert "<p>Only your email.</p>" in client.get(page.get_absolute_url()).text


def test_the_footer_pages_cannot_be_deleted_but_others_can(shop_staff_client):
    required = InfoPage.objects.get(slug=BUYING)
    delete = reverse("admin:listings_infopage_delete", args=[required.pk])
    assert shop_staff_client.get(delete).status_code == 403
    assert shop_staff_client.post(delete, {"post": "yes"}).status_code == 403
    changelist = shop_staff_client.get(reverse("admin:listings_infopage_changelist")).text
    assert "delete_selected" not in changelist
    assert InfoPage.objects.filter(slug=BUYING).exists()

    add = shop_staff_client.post(
        reverse("admin:listings_infopage_add"),
        {"title": "Gift cards", "slug": "gift-cards", "summary": "Give merch.", "body": "Soon."},
    )
    assert add.status_code == 302
    extra = InfoPage.objects.get(slug="gift-cards")
    delete = reverse("admin:listings_infopage_delete", args=[extra.pk])
    assert shop_staff_client.post(delete, {"post": "yes"}).status_code == 302
    assert not InfoPage.objects.filter(slug="gift-cards").exists()


def test_loaddemo_brings_back_a_missing_page():
    InfoPage.objects.filter(slug=SHIPPING).delete()
    call_command("loaddemo", "--no-pictures", verbosity=0)
    assert InfoPage.objects.get(slug=SHIPPING).title == DEFAULTS[SHIPPING]["title"]


def test_the_sitemap_lists_the_pages(client):
    sitemap = client.get("/sitemap-pages.xml").text
    for slug in DEFAULTS:
        assert f"/info/{slug}/</loc>" in sitemap
