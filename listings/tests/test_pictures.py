"""Pictures: checked by content, stored clean, served as renditions, removed with their row."""

import io
import json
import os
import re
import struct
import zlib

import pytest
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from listings.models import Band, Listing, ListingPhoto
from listings.pictures import file_names
from listings.tests.admin_forms import FORM_DEFAULTS, change_form_data
from listings.tests.factories import (
    BandFactory,
    ListingFactory,
    ListingPhotoFactory,
    image_file,
    share_pictures,
)

pytestmark = pytest.mark.django_db

GENERATED_NAME = re.compile(r"^pictures/[0-9a-f]{32}\.(jpg|png)$")


def stored_files(media_root):
    return sorted(
        str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file()
    )


def add_listing(client, uploads, **fields):
    data = {
        "title": "Tour tee",
        "type": "Clothing",
        "description": "",
        "add_pictures": uploads,
        "add_pictures_alt": "Black tee with the tour dates on the back",
        **FORM_DEFAULTS,
        **fields,
    }
    return client.post(reverse(admin_urlname(Listing._meta, "add")), data)


def phone_photo():
    """A JPEG as a phone takes it: lying on its side (EXIF orientation 6) with a GPS position."""
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    exif[0x010E] = "secret-location-marker"  # ImageDescription
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (52.0, 22.0, 1.5), 3: "E", 4: (4.0, 53.0, 2.0)})
    return image_file(800, 600, exif=exif.tobytes(), name="IMG_2024 holiday ../../etc.jpg")


# Staff upload pictures


def test_a_phone_photo_is_stored_upright_without_metadata_under_a_generated_name(
    admin_client, media_root
):
    response = add_listing(admin_client, [phone_photo()])
    assert response.status_code == 302
    photo = ListingPhoto.objects.get()
    assert GENERATED_NAME.match(photo.image.name)
    assert (photo.image_width, photo.image_height) == (600, 800)  # turned upright
    assert photo.alt_text == "Black tee with the tour dates on the back"
    assert photo.listing.cover == photo
    expected = file_names(photo.image.name, 600)
    assert stored_files(media_root) == sorted(expected)
    assert len(expected) == 1 + 2 * 2  # the master, and 320 and 600 wide in WebP and JPEG
    for name in expected:
        data = (media_root / name).read_bytes()
        assert b"secret-location-marker" not in data
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif()
            assert image.height > image.width


def test_several_pictures_at_once_keep_their_order(admin_client):
    colours = ["red", "green", "blue"]
    uploads = [image_file(400, 400, colour=c, name=f"{c}.png", kind="PNG") for c in colours]
    assert add_listing(admin_client, uploads).status_code == 302
    listing = Listing.objects.get()
    positions = list(listing.photos.values_list("position", flat=True))
    assert positions == [1, 2, 3]  # numbered from 1, as the home page positions are
    assert listing.cover == listing.photos.first()


def test_pictures_added_after_the_last_position_come_last(admin_client):
    """Positions are small integers (up to 32,767): PostgreSQL refused the next one, a 500."""
    listing = ListingFactory()
    ListingPhotoFactory(listing=listing, position=32_767, alt_text="Last")
    url = reverse(admin_urlname(Listing._meta, "change"), args=[listing.pk])
    data = change_form_data(admin_client.get(url))
    data["add_pictures"] = [image_file(400, 400, colour=c) for c in ("red", "blue")]
    data["add_pictures_alt"] = "New"
    assert admin_client.post(url, data).status_code == 302
    photos = listing.photos.all()
    assert [p.alt_text for p in photos] == ["Last", "New", "New"]
    assert {p.position for p in photos} == {32_767}


def test_alt_text_is_required_unless_the_picture_is_decorative(admin_client, media_root):
    response = add_listing(admin_client, [image_file()], add_pictures_alt="")
    assert response.status_code == 200
    assert "Describe the pictures" in response.text
    assert stored_files(media_root) == []
    response = add_listing(
        admin_client, [image_file()], add_pictures_alt="", add_pictures_decorative="on"
    )
    assert response.status_code == 302
    assert ListingPhoto.objects.get().decorative


def png_header(width, height):
    """A PNG file claiming `width` × `height` pixels with almost no data: a decompression bomb
    needs no more than its header to be refused."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def truncated_jpeg():
    data = image_file(1200, 900).read()
    return data[: len(data) // 2]


BAD_UPLOADS = {
    "text renamed .jpg": (b"just some text, not a picture\n" * 20, "not one"),
    "SVG": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "not one",
    ),
    "HTML": (b"<!doctype html><html><body><script>alert(1)</script></body></html>", "not one"),
    "GIF": (image_file(50, 50, kind="GIF").read(), "JPEG, PNG or WebP"),
    "truncated JPEG": (truncated_jpeg(), "damaged"),
    "20,000 × 20,000 px bomb": (png_header(20_000, 20_000), "too large: at most 40 megapixels"),
    "8,000 × 6,000 px": (png_header(8_000, 6_000), "too large: 8,000 × 6,000 pixels"),
    "zero bytes": (b"", "empty"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_a_bad_upload_is_a_form_error_and_nothing_is_stored(admin_client, media_root, case):
    content, message = BAD_UPLOADS[case]
    upload = SimpleUploadedFile("photo.jpg", content, content_type="image/jpeg")
    response = add_listing(admin_client, [upload])
    assert response.status_code == 200
    assert message in response.text
    assert "photo.jpg:" in response.text
    assert not Listing.objects.exists()
    assert stored_files(media_root) == []


def test_an_upload_over_the_size_limit_is_refused(admin_client, media_root, settings):
    settings.MERCHEX_UPLOAD_MAX_BYTES = 10_000
    noise = Image.frombytes("RGB", (100, 100), os.urandom(30_000))  # does not compress
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    big = SimpleUploadedFile("big.png", buffer.getvalue())
    response = add_listing(admin_client, [big])
    assert "too large: at most 0.01 MB" in response.text
    assert stored_files(media_root) == []


def test_band_picture_needs_a_description(admin_client, band):
    url = reverse(admin_urlname(Band._meta, "change"), args=[band.pk])
    data = change_form_data(admin_client.get(url))
    data["picture"] = image_file(900, 900)
    response = admin_client.post(url, data)
    assert "Describe the picture in a few words." in response.text
    data["picture"] = image_file(900, 900)
    data["picture_alt"] = "The band on stage"
    assert admin_client.post(url, data).status_code == 302
    band.refresh_from_db()
    assert GENERATED_NAME.match(band.picture.name)
    assert (band.picture_width, band.picture_height) == (900, 900)


# Files go with their rows, after the commit


def test_deleting_a_listing_removes_its_files_after_the_commit(
    media_root, django_capture_on_commit_callbacks
):
    photo = ListingPhotoFactory()
    files = stored_files(media_root)
    assert len(files) == 7  # an 800 px master: 320, 640 and 800 wide, WebP and JPEG
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        photo.listing.delete()
    assert stored_files(media_root) == files  # not before the commit
    for callback in callbacks:
        callback()
    assert stored_files(media_root) == []


def test_replacing_a_band_picture_removes_the_old_files(
    admin_client, band, media_root, django_capture_on_commit_callbacks
):
    url = reverse(admin_urlname(Band._meta, "change"), args=[band.pk])
    for colour in ["red", "blue"]:
        data = change_form_data(admin_client.get(url))
        data["picture"] = image_file(700, 500, colour=colour)
        data["picture_alt"] = f"A {colour} logo"
        with django_capture_on_commit_callbacks(execute=True):
            assert admin_client.post(url, data).status_code == 302
    band.refresh_from_db()
    assert stored_files(media_root) == sorted(file_names(band.picture.name, 700))
    with django_capture_on_commit_callbacks(execute=True):
        band.delete()
    assert stored_files(media_root) == []


def test_a_shared_picture_stays_while_a_row_still_shows_it(
    media_root, django_capture_on_commit_callbacks
):
    listings = ListingFactory.create_batch(3)
    share_pictures(listings)
    with django_capture_on_commit_callbacks(execute=True):
        listings[0].delete()
    assert len(stored_files(media_root)) == 7
    assert Listing.objects.filter(cover__isnull=False).count() == 2


def test_prunepictures_finds_files_no_row_refers_to(media_root, capsys):
    photo = ListingPhotoFactory()
    kept = stored_files(media_root)
    orphan = media_root / "pictures" / "0123abcd.jpg"
    orphan.write_bytes(b"left behind")
    call_command("prunepictures")
    assert "pictures/0123abcd.jpg" in capsys.readouterr().out
    assert orphan.exists()  # a dry run by default
    call_command("prunepictures", "--delete")
    assert stored_files(media_root) == kept
    assert photo.image.name in kept


def test_renditions_makes_what_new_widths_need(media_root, settings, capsys):
    settings.MERCHEX_RENDITION_WIDTHS = (320, 640)
    photo = ListingPhotoFactory(image=image_file(1600, 1200))
    band = BandFactory(picture=image_file(1000, 500), picture_alt="Logo")
    before = set(stored_files(media_root))
    settings.MERCHEX_RENDITION_WIDTHS = (320, 640, 960, 1920)
    call_command("renditions")
    assert "Renditions made for 2 of 2 pictures." in capsys.readouterr().out
    stem = photo.image.name.rpartition(".")[0]
    added = set(stored_files(media_root)) - before
    band_stem = band.picture.name.rpartition(".")[0]
    assert added == {
        *(f"{stem}-{width}.{kind}" for width in (960, 1600) for kind in ("webp", "jpg")),
        *(f"{band_stem}-{width}.{kind}" for width in (960, 1000) for kind in ("webp", "jpg")),
    }
    with Image.open(media_root / f"{stem}-960.jpg") as rendition:
        assert rendition.size == (960, 720)
    call_command("renditions")  # again: nothing to make
    assert "Renditions made for 0 of 2 pictures." in capsys.readouterr().out
    (media_root / photo.image.name).unlink()  # a database restored without its files
    settings.MERCHEX_RENDITION_WIDTHS = (320, 640, 800, 960, 1920)
    call_command("renditions")  # the band's 800 px; the photo passed over, nothing to read
    assert "Renditions made for 1 of 2 pictures." in capsys.readouterr().out


def test_currently_links_to_a_rendition_not_the_master(admin_client):
    band = BandFactory(picture=image_file(1600, 1200), picture_alt="Logo")
    page = admin_client.get(reverse(admin_urlname(Band._meta, "change"), args=[band.pk])).text
    stem = band.picture.name.rpartition(".")[0]
    assert f'Currently: <a href="/media/{stem}-1600.jpg">{band.picture.name}</a>' in page


# What fans see


def test_cards_show_the_main_picture_as_renditions(client, media_root):
    photo = ListingPhotoFactory(image=image_file(1600, 1200), alt_text="Front of the tee")
    listing = photo.listing
    page = client.get(reverse("listings:listing-list")).text
    stem = photo.image.name.rpartition(".")[0]
    webp = ", ".join(f"/media/{stem}-{w}.webp {w}w" for w in (320, 640, 960, 1280, 1600))
    assert f'<source type="image/webp" srcset="{webp}"' in page
    assert f'src="/media/{stem}-640.jpg"' in page
    # The card's link is named by its title: the picture is not read out again (Lighthouse's
    # "redundant alt"); its description is on the item's page.
    assert 'width="640" height="480" alt=""' in page
    assert 'alt="Front of the tee"' in client.get(listing.get_absolute_url()).text
    assert listing.title in page
    assert photo.image.name not in page  # the master itself is never served


def test_items_without_a_picture_get_a_placeholder_of_their_kind(client):
    ListingFactory(type="Records")
    page = client.get(reverse("listings:listing-list")).text
    assert 'src="/static/img/placeholder-records.svg" width="320" height="320" alt=""' in page


def test_only_the_first_row_of_cards_loads_at_once_the_first_before_all(client):
    share_pictures(ListingFactory.create_batch(8))
    page = client.get(reverse("listings:listing-list")).text
    images = re.findall(r"<img [^>]*>", page)
    assert ['loading="lazy"' in image for image in images] == [False] * 6 + [True] * 2
    assert 'fetchpriority="high"' in images[0]
    assert not any('fetchpriority="high"' in image for image in images[1:])


def test_listing_page_shows_the_gallery_and_shares_the_main_picture(client):
    listing = ListingFactory(title="Tour tee", price=25)
    first = ListingPhotoFactory(listing=listing, alt_text="Front", position=1)
    ListingPhotoFactory(listing=listing, alt_text="Back", position=2)
    page = client.get(listing.get_absolute_url()).text
    assert page.index('alt="Front"') < page.index('alt="Back"')
    assert 'alt="Front" fetchpriority="high"' in page
    stem = first.image.name.rpartition(".")[0]
    big = f"http://testserver/media/{stem}-800.jpg"  # the 800 px master's largest rendition
    assert f'<meta property="og:image" content="{big}">' in page
    assert '<meta property="og:image:alt" content="Front">' in page
    assert '<meta property="og:type" content="product">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    data = json.loads(page.split('<script type="application/ld+json">')[1].split("</script>")[0])
    assert data["image"][0] == big
    assert len(data["image"]) == 2


def test_band_page_shows_the_band_picture(client, band):
    band.picture = image_file(1000, 800)
    band.picture_alt = "The band on stage"
    band.save()
    page = client.get(band.get_absolute_url()).text
    assert 'alt="The band on stage" fetchpriority="high"' in page
    assert '<meta property="og:image:alt" content="The band on stage">' in page
    assert '<meta property="og:type" content="music.musician">' in page
    data = json.loads(page.split('<script type="application/ld+json">')[1].split("</script>")[0])
    assert data["image"].endswith("-1000.jpg")
    assert data["image"].startswith("http://testserver/media/pictures/")


def test_a_new_picture_shows_on_the_next_page_view(client, listing):
    client.get(listing.get_absolute_url())
    photo = ListingPhotoFactory(listing=listing, alt_text="A brand new photo")
    assert 'alt="A brand new photo"' in client.get(listing.get_absolute_url()).text
    photo.alt_text = "Renamed photo"
    photo.save()
    assert 'alt="Renamed photo"' in client.get(listing.get_absolute_url()).text
    photo.delete()
    assert "Renamed photo" not in client.get(listing.get_absolute_url()).text


# Speed: building srcsets costs no queries and no storage calls


class CountingStorage:
    """Counts the calls that would reach the disk or a bucket."""

    def __init__(self, monkeypatch):
        self.calls = []
        storage = default_storage._wrapped if default_storage._wrapped else None
        if storage is None:
            default_storage._setup()
            storage = default_storage._wrapped
        for method in ["exists", "size", "open", "listdir", "get_modified_time", "path"]:
            original = getattr(storage, method)
            monkeypatch.setattr(storage, method, self.counter(method, original))

    def counter(self, name, original):
        def count(*args, **kwargs):
            self.calls.append(name)
            return original(*args, **kwargs)

        return count


def test_rendering_pages_with_pictures_makes_no_storage_calls(client, monkeypatch):
    bands = BandFactory.create_batch(3)
    listings = [ListingFactory(band=band) for band in bands for _ in range(3)]
    share_pictures(listings, bands)
    storage = CountingStorage(monkeypatch)
    for url in [
        "/",
        bands[0].get_absolute_url(),
        "/listings/",
        listings[0].get_absolute_url(),
        "/search/?q=band",
    ]:
        page = client.get(url).text
        assert "<picture>" in page, url
    assert storage.calls == []


def test_pictures_chosen_in_a_form_that_comes_back_are_named_to_choose_again(admin_client):
    uploads = [image_file(name="front.jpg"), image_file(name="back.jpg")]
    response = add_listing(admin_client, uploads, title="")  # an error elsewhere in the form
    assert response.status_code == 200
    assert "The pictures you chose were not saved (front.jpg, back.jpg)" in response.text
    assert not Listing.objects.exists()


def test_every_gallery_picture_opens_large_without_javascript(client):
    listing = ListingFactory(title="Tour tee", price=25)
    ListingPhotoFactory(listing=listing, alt_text="Front", image=image_file(1600, 1200))
    back = ListingPhotoFactory(listing=listing, alt_text="Back", image=image_file(1600, 1200))
    page = client.get(listing.get_absolute_url()).text
    stem = back.image.name.rpartition(".")[0]
    assert f'<a class="gallery-link" href="/media/{stem}-1600.jpg">' in page  # the largest
    assert page.count('class="gallery-link"') == 2
