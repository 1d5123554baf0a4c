"""Cached fan pages are kept compressed (Brotli, gzip) and served in what the client accepts:
compressed once when rendered, not on every request."""

import gzip

import brotli
import pytest
from django.contrib.auth import get_user_model

from listings import caching

pytestmark = pytest.mark.django_db

DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        ("gzip, deflate, br, zstd", "br"),  # what browsers send
        ("gzip, deflate", "gzip"),
        ("br;q=0, gzip;q=0.5", "gzip"),
        ("*", "br"),
        ("identity", None),
        ("br;q=nonsense, gzip", "gzip"),
        ("", None),
    ],
)
def test_the_page_comes_in_the_encoding_the_client_accepts(client, band, listing, accept, encoding):
    url = band.get_absolute_url()
    plain = client.get(url).content
    caching.clear()
    for served in ("miss", "hit"):
        response = client.get(url, headers={"accept-encoding": accept})
        assert response["X-Cache"] == served
        assert response.get("Content-Encoding") == encoding
        body = DECODE[encoding](response.content) if encoding else response.content
        assert body == plain
        assert "Accept-Encoding" in response["Vary"]
        if encoding:
            assert len(response.content) < len(plain) / 2


def test_each_encoding_has_its_own_etag(client, band):
    url = band.get_absolute_url()
    etags = {
        accept: client.get(url, headers={"accept-encoding": accept})["ETag"]
        for accept in ["br", "gzip", ""]
    }
    assert len(set(etags.values())) == 3
    gzipped = {"accept-encoding": "gzip"}
    assert client.get(url, headers={**gzipped, "if-none-match": etags["gzip"]}).status_code == 304
    assert client.get(url, headers={**gzipped, "if-none-match": etags[""]}).status_code == 200
    assert client.get(url, headers={"if-none-match": etags[""]}).status_code == 304


def test_a_page_is_compressed_once_per_change(client, band, listing, monkeypatch):
    calls = []
    for name, compress in list(caching.COMPRESSIONS.items()):
        monkeypatch.setitem(
            caching.COMPRESSIONS, name, lambda data, c=compress, n=name: calls.append(n) or c(data)
        )
    url = band.get_absolute_url()
    for accept in ["br", "gzip", "br", ""]:
        assert client.get(url, headers={"accept-encoding": accept}).status_code == 200
    assert sorted(calls) == ["br", "gzip"]  # once each, when the page was rendered
    band.biography = "Changed"
    band.save()
    assert (
        "Changed"
        in gzip.decompress(client.get(url, headers={"accept-encoding": "gzip"}).content).decode()
    )
    assert sorted(calls) == ["br", "br", "gzip", "gzip"]


def test_pages_with_a_form_token_or_a_staff_preview_are_not_compressed(client, band):
    contact = client.get("/contact/", headers={"accept-encoding": "gzip, br"})
    assert "csrfmiddlewaretoken" in contact.text  # never cached, so never compressed
    assert "Content-Encoding" not in contact
    staff = get_user_model().objects.create_user("helper", is_staff=True)
    client.force_login(staff)
    preview = client.get(band.get_absolute_url(), headers={"accept-encoding": "gzip, br"})
    assert "Content-Encoding" not in preview
    assert "private" in preview["Cache-Control"]


def test_a_sitemap_rendered_late_is_compressed_with_its_encodings_etag(client, listing):
    """The sitemaps are TemplateResponses: rendered before they are kept, like the rest."""
    for served in ("miss", "hit"):
        response = client.get("/sitemap-listings.xml", headers={"accept-encoding": "gzip"})
        assert response["X-Cache"] == served
        assert response["Content-Encoding"] == "gzip"
        assert response["ETag"].endswith('-gzip"')
        assert listing.get_absolute_url() in gzip.decompress(response.content).decode()
