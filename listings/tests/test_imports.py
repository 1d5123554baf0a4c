"""Spreadsheet import and export in the admin: a preview first, all or nothing, bad input named
row by row, no formula in the owner's spreadsheet."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from listings.models import Band, Listing
from listings.resources import ListingResource
from listings.tests.factories import BandFactory, ListingFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:listings_listing_import")
CONFIRM = reverse("admin:listings_listing_process_import")
EXPORT = reverse("admin:listings_listing_export")
HEADER = ["id", "title", "band", "type", "year", "price", "sold", "published", "description"]
CSV_FORMAT, XLSX_FORMAT = "0", "1"


@pytest.fixture
def bjork(db):
    return BandFactory(name="Björk")


def csv_file(rows, header=HEADER, encoding="utf-8", name="listings.csv"):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, text.getvalue().encode(encoding), content_type="text/csv")


def preview(client, upload, file_format=CSV_FORMAT):
    return client.post(IMPORT, {"import_file": upload, "format": file_format, "resource": "0"})


def confirm(client, previewed):
    """Press "Confirm import" on a preview page."""
    form = previewed.context["confirm_form"]
    return client.post(CONFIRM, form.initial, follow=True)


def totals(response):
    return dict(response.context["result"].totals)


def row_errors(response):
    """{row number: [messages]} of a preview's failing rows."""
    result = response.context["result"]
    errors = {}
    for row in result.invalid_rows:
        messages = [str(m) for ms in row.error_dict.values() for m in ms]
        errors[row.number] = messages
    for number, row_errors_ in result.row_errors():
        errors.setdefault(number, []).extend(str(error.error) for error in row_errors_)
    return errors


def exported_rows(client, file_format=CSV_FORMAT):
    data = {"format": file_format, "resource": "0"}
    data.update({f"listingresource_{field}": "on" for field in HEADER})
    response = client.post(EXPORT, data)
    assert response.status_code == 200, response.content[:500]
    if file_format == XLSX_FORMAT:
        sheet = load_workbook(io.BytesIO(response.content)).active
        return [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_a_preview_lists_new_and_updated_rows_and_writes_nothing(admin_client, bjork):
    tee = ListingFactory(title="Tour tee", band=bjork, type="Clothing", price=Decimal("20.00"))
    upload = csv_file(
        [
            [tee.pk, "Tour tee", "bjork", "Clothing", "", "25.00", "0", "1", ""],
            ["", "Vinyl LP", "BJÖRK", "records", "1997", "30", "0", "1", "Homogenic"],
        ]
    )
    response = preview(admin_client, upload)
    assert response.status_code == 200
    assert totals(response)["new"] == 1
    assert totals(response)["update"] == 1
    assert "confirm_form" in response.context
    tee.refresh_from_db()
    assert tee.price == Decimal("20.00")  # a preview writes nothing
    assert not Listing.objects.filter(title="Vinyl LP").exists()

    done = confirm(admin_client, response)
    assert done.status_code == 200
    tee.refresh_from_db()
    assert tee.price == Decimal("25.00")
    record = Listing.objects.get(title="Vinyl LP")
    assert (record.band, record.type, record.year) == (bjork, "Records", 1997)


def test_an_import_shows_on_the_fan_pages_at_once(admin_client, client, bjork):
    tee = ListingFactory(title="Tour tee", band=bjork, type="Clothing", price=Decimal("20.00"))
    assert "€20.00" in client.get(tee.get_absolute_url()).text  # cached
    rows = [[tee.pk, "Tour tee", "Björk", "Clothing", "", "21.50", "0", "1", ""]]
    confirm(admin_client, preview(admin_client, csv_file(rows)))
    assert "€21.50" in client.get(tee.get_absolute_url()).text
    assert "€21.50" in client.get(bjork.get_absolute_url()).text


@pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
def test_reimporting_an_export_changes_nothing(admin_client, bjork, file_format):
    ListingFactory.create_batch(3, band=bjork)
    ListingFactory(title='=HYPERLINK("http://evil.example")', band=None, type="Misc")
    before = list(Listing.objects.values_list("pk", "updated_at", "title", "price"))
    rows = exported_rows(admin_client, file_format)
    assert rows[0] == HEADER
    assert len(rows) == 5
    if file_format == XLSX_FORMAT:
        book = Workbook()
        for row in rows:
            book.active.append(row)
        data = io.BytesIO()
        book.save(data)
        upload = SimpleUploadedFile("listings.xlsx", data.getvalue())
    else:
        upload = csv_file(rows[1:])
    response = preview(admin_client, upload, file_format)
    assert row_errors(response) == {}
    assert totals(response)["skip"] == 4, totals(response)  # every row unchanged
    confirm(admin_client, response)
    assert list(Listing.objects.values_list("pk", "updated_at", "title", "price")) == before


@pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
def test_exported_cells_never_start_a_formula(admin_client, file_format):
    for title in ["=1+2", "+CMD", "-2+3", "@SUM(A1)"]:
        ListingFactory(title=title, band=None)
    titles = [row[1] for row in exported_rows(admin_client, file_format)[1:]]
    assert len(titles) == 4
    for title in titles:
        assert title[0] not in "=+-@", title
        assert title.startswith("'")


# Bad input: every row's reason is shown, and nothing is written while any row fails.

BAD_ROWS = {
    "unknown type": (["", "Mug", "", "Mugs", "", "5", "0", "1", ""], "Unknown value “Mugs”"),
    "negative price": (
        ["", "Tee", "", "Clothing", "", "-5", "0", "1", ""],
        "greater than or equal to 0",
    ),
    "year 1700": (
        ["", "Old poster", "", "Posters", "1700", "", "0", "1", ""],
        "greater than or equal to 1900",
    ),
    "next year": (
        ["", "Future", "", "Posters", str(timezone.now().year + 1), "", "0", "1", ""],
        "less than or equal to",
    ),
    "missing title": (["", "", "", "Posters", "", "", "0", "1", ""], "cannot be blank"),
    "unknown band": (
        ["", "Tee", "Nobody", "Clothing", "", "", "0", "1", ""],
        "No band named “Nobody”",
    ),
    "unknown id": (
        ["999999", "Tee", "", "Clothing", "", "", "0", "1", ""],
        "No listing has the id 999999",
    ),
    "id not a number": (["x1", "Tee", "", "Clothing", "", "", "0", "1", ""], "“x1” is not an id"),
    "price not a number": (
        ["", "Tee", "", "Clothing", "", "ten", "0", "1", ""],
        "“ten” is not a price",
    ),
    "sold neither yes nor no": (
        ["", "Tee", "", "Clothing", "", "", "maybe", "yes", ""],
        "“maybe” in column sold is not yes or no",
    ),
    "published left empty": (
        ["", "Tee", "", "Clothing", "", "", "no", "", ""],
        "in column published is not yes or no",
    ),
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_a_bad_row_is_named_with_its_reason_and_nothing_is_written(admin_client, bjork, case):
    row, reason = BAD_ROWS[case]
    good = ["", "Good tee", "Björk", "Clothing", "", "10", "0", "1", ""]
    response = preview(admin_client, csv_file([good, row]))
    assert response.status_code == 200
    errors = row_errors(response)
    assert list(errors) == [2], errors
    assert any(reason in message for message in errors[2]), errors
    assert "confirm_form" not in response.context  # no way to go on
    assert not Listing.objects.exists()


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (("yes", "No"), (True, False)),
        (("Y", "n"), (True, False)),
        (("TRUE", "false"), (True, False)),
        (("1", "0"), (True, False)),
        (("no", "YES"), (False, True)),
    ],
)
def test_yes_no_columns_read_every_usual_spelling(admin_client, cells, expected):
    sold, published = cells
    rows = [["", "Tee", "", "Clothing", "", "", sold, published, ""]]
    response = preview(admin_client, csv_file(rows))
    assert row_errors(response) == {}
    confirm(admin_client, response)
    assert Listing.objects.values_list("sold", "published").get() == expected


def test_export_writes_yes_and_no(admin_client):
    ListingFactory(sold=True, published=False, band=None)
    header, row = exported_rows(admin_client)
    assert (row[header.index("sold")], row[header.index("published")]) == ("yes", "no")


def test_an_id_twice_in_one_file_is_refused(admin_client, bjork):
    tee = ListingFactory(title="Tee", band=bjork, type="Clothing")
    rows = [
        [tee.pk, "Tee A", "", "Clothing", "", "", "0", "1", ""],
        [tee.pk, "Tee B", "", "Clothing", "", "", "0", "1", ""],
    ]
    errors = row_errors(preview(admin_client, csv_file(rows)))
    assert list(errors) == [2]
    assert f"The id {tee.pk} is also on row 1" in errors[2][0]
    tee.refresh_from_db()
    assert tee.title == "Tee"


def test_a_latin1_file_is_read_as_excel_writes_it(admin_client, bjork):
    rows = [["", "Café tee", "Björk", "Clothing", "", "12", "0", "1", "Crème"]]
    response = preview(admin_client, csv_file(rows, encoding="cp1252"))
    assert row_errors(response) == {}
    confirm(admin_client, response)
    tee = Listing.objects.get()
    assert (tee.title, tee.band, tee.description) == ("Café tee", bjork, "Crème")


def test_a_file_with_a_byte_order_mark_is_read(admin_client, bjork):
    rows = [["", "Tee", "Björk", "Clothing", "", "12", "0", "1", ""]]
    response = preview(admin_client, csv_file(rows, encoding="utf-8-sig"))
    assert totals(response)["new"] == 1
    confirm(admin_client, response)
    assert Listing.objects.get().title == "Tee"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("big.csv", b"id,title\n" + b"x" * 20_000_000),
            "the largest accepted is",
        ),
        (
            SimpleUploadedFile("picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
            "not a CSV file",
        ),
        (SimpleUploadedFile("sheet.csv", b"PK\x03\x04 zipped"), "not a CSV file"),
        (SimpleUploadedFile("empty.csv", b""), "empty"),
    ],
)
def test_files_that_are_too_big_or_no_csv_are_refused_before_reading(admin_client, upload, message):
    response = preview(admin_client, upload)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors)
    assert not Listing.objects.exists()


def xlsx_file(rows, header=HEADER):
    book = Workbook()
    for row in [header, *rows]:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile("listings.xlsx", data.getvalue())


@pytest.mark.parametrize(
    ("make_file", "file_format"), [(csv_file, CSV_FORMAT), (xlsx_file, XLSX_FORMAT)]
)
def test_a_file_of_more_rows_than_one_import_takes_is_refused(
    admin_client, bjork, settings, make_file, file_format
):
    settings.MERCHEX_IMPORT_MAX_ROWS = 3
    row = ["", "Tee", "Björk", "Clothing", "", "12", "no", "yes", "Line one\nline two"]
    rows = [[*row[:1], f"Tee {n}", *row[2:]] for n in range(4)]
    refused = preview(admin_client, make_file(rows), file_format)
    assert "This file has 4 rows; at most 3 are imported at a time." in str(
        refused.context["form"].errors
    )
    accepted = preview(admin_client, make_file(rows[:3]), file_format)  # a cell's line break too
    assert not accepted.context["form"].errors
    assert totals(accepted)["new"] == 3
    assert not Listing.objects.exists()


def test_a_csv_named_xlsx_is_refused(admin_client):
    upload = SimpleUploadedFile("listings.xlsx", b"id,title\n,Tee\n")
    response = preview(admin_client, upload, XLSX_FORMAT)
    assert "not an Excel (.xlsx) file" in str(response.context["form"].errors)


def test_bands_import_matches_nothing_by_accident(admin_client, bjork):
    """Bands are imported by their own changelist, with the same preview."""
    header = [
        "id",
        "name",
        "genre",
        "year_formed",
        "active",
        "published",
        "official_homepage",
        "biography",
    ]
    rows = [
        [bjork.pk, "Björk", "Electronic", "1977", "1", "1", "", "Icelandic"],
        ["", "New Band", "rock", "2001", "1", "0", "", ""],
    ]
    url = reverse("admin:listings_band_import")
    response = admin_client.post(
        url, {"import_file": csv_file(rows, header=header), "format": CSV_FORMAT, "resource": "0"}
    )
    assert row_errors(response) == {}
    assert totals(response)["new"] == 1
    assert totals(response)["update"] == 1
    admin_client.post(
        reverse("admin:listings_band_process_import"), response.context["confirm_form"].initial
    )
    bjork.refresh_from_db()
    assert (bjork.genre, bjork.biography) == ("EL", "Icelandic")
    new = Band.objects.get(name="New Band")
    assert (new.genre, new.published) == ("RO", False)


# Who sees the buttons.


def staff_with(client, *codenames):
    user = get_user_model().objects.create_user("helper", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


def test_view_only_staff_export_but_cannot_import(client):
    staff_with(client, "view_listing")
    page = client.get(reverse("admin:listings_listing_changelist")).text
    assert EXPORT in page
    assert IMPORT not in page
    assert client.get(IMPORT).status_code == 403
    rows = [["", "Tee", "", "Clothing", "", "", "0", "1", ""]]
    assert preview(client, csv_file(rows)).status_code == 403
    assert not Listing.objects.exists()


def test_staff_who_may_add_and_change_import(client):
    staff_with(client, "view_listing", "add_listing", "change_listing")
    assert IMPORT in client.get(reverse("admin:listings_listing_changelist")).text
    rows = [["", "Tee", "", "Clothing", "", "", "0", "1", ""]]
    confirm(client, preview(client, csv_file(rows)))
    assert Listing.objects.get().title == "Tee"


def test_the_resource_reads_bands_once_per_import(bjork, django_assert_max_num_queries):
    import tablib

    rows = tablib.Dataset(headers=HEADER)
    for number in range(200):
        rows.append(["", f"Tee {number}", "Björk", "Clothing", "", "10", "0", "1", ""])
    # Not one per row: the bands, the existing titles, options for the new rows.
    with django_assert_max_num_queries(16):
        result = ListingResource().import_data(rows, dry_run=False, use_transactions=True)
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert Listing.objects.filter(band=bjork).count() == 200
    assert Listing.objects.filter(band=bjork, variants__name="").count() == 200  # one each


def test_control_characters_do_not_break_an_excel_export(admin_client):
    ListingFactory(title="Tee", description="Bell\x07 and form feed\x0c", band=None)
    rows = exported_rows(admin_client, XLSX_FORMAT)
    assert rows[1][1] == "Tee"


def test_every_field_import_reads_goes_out_and_comes_back_unchanged(admin_client, bjork):
    from listings.tests.factories import ListingPhotoFactory

    featured = ListingFactory(title="Homogenic LP", band=bjork, type="Records", featured_position=1)
    ListingPhotoFactory(listing=featured)
    ListingFactory(title="Lanyard", band=None, type="Misc", sold=True)
    before = list(Listing.objects.order_by("pk").values())
    data = {"format": CSV_FORMAT, "resource": "0"}
    everything = [*HEADER, "featured_position", "pictures"]
    data.update({f"listingresource_{field}": "on" for field in everything})
    rows = list(
        csv.reader(io.StringIO(admin_client.post(EXPORT, data).content.decode("utf-8-sig")))
    )
    assert rows[0] == [*HEADER, "home_page_position", "pictures"]
    by_title = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_title["Homogenic LP"]["home_page_position"] == "1"
    assert by_title["Homogenic LP"]["pictures"].startswith("pictures/")
    assert by_title["Lanyard"]["type"] == "Misc"  # the value import reads, not the label
    assert by_title["Lanyard"]["sold"] == "yes"
    response = preview(admin_client, csv_file(rows[1:], header=rows[0]))
    assert row_errors(response) == {}
    assert totals(response)["skip"] == 2
    confirm(admin_client, response)
    assert list(Listing.objects.order_by("pk").values()) == before


def test_a_new_row_matching_an_existing_listing_is_flagged_before_anything_is_written(
    admin_client, bjork
):
    ListingFactory(title="Tour tee", band=bjork)
    rows = [
        ["", "Poster", "Björk", "Posters", "", "", "no", "yes", ""],
        ["", "TOUR TEE", "bjork", "Clothing", "", "", "no", "yes", ""],
        ["", "Poster", "Björk", "Posters", "", "", "no", "yes", ""],
    ]
    response = preview(admin_client, csv_file(rows))
    errors = row_errors(response)
    assert "is already a listing of this band" in errors[2][0]
    assert "is also new on row 2 of the file" in errors[3][0]
    assert "confirm_form" not in response.context
    assert Listing.objects.count() == 1


def test_the_preview_lists_every_row_with_its_reason_and_spreadsheet_row_number(
    admin_client, bjork
):
    good = ["", "Good tee", "Björk", "Clothing", "", "10", "no", "yes", ""]
    bad = ["", "Bad tee", "Björk", "Clothing", "", "", "maybe", "yes", ""]
    page = preview(admin_client, csv_file([good, bad])).text
    rows = re.findall(r"<tr class=\"(\w+)\">\s*<td>(\d+)</td>", page)
    assert rows == [("new", "2"), ("invalid", "3")]  # the header is the spreadsheet's row 1
    assert "“maybe” in column sold is not yes or no" in page  # written out, not on hover
    assert ">None<" not in page


def test_options_and_their_stock_go_out_and_come_back_through_a_spreadsheet(admin_client):
    from listings.models import StockChange
    from listings.tests.factories import VariantFactory

    tee = ListingFactory(title="Tour tee", option=False, price=Decimal("25.00"))
    small = VariantFactory(listing=tee, name="S", stock=3, sku="TEE-S")
    medium = VariantFactory(listing=tee, name="M", stock=1)
    url = "/admin/listings/variant/"
    data = {"format": CSV_FORMAT, "resource": "0"}
    data.update({f"variantresource_{f}": "on" for f in ["id", "listing", "name", "stock", "sku"]})
    rows = list(csv.reader(io.StringIO(admin_client.post(f"{url}export/", data).content.decode())))
    assert rows[0] == ["id", "listing", "name", "stock", "sku"]
    assert [str(small.pk), str(tee.pk), "S", "3", "TEE-S"] in rows
    changed = [row if row[0] != str(medium.pk) else [*row[:3], "0", row[4]] for row in rows[1:]]
    bad = [[str(small.pk), str(tee.pk), "S", "-2", ""]]
    refused = admin_client.post(
        f"{url}import/",
        {"import_file": csv_file(bad, header=rows[0]), "format": CSV_FORMAT, "resource": "0"},
    )
    assert "is not a stock" in refused.text
    answer = admin_client.post(
        f"{url}import/",
        {"import_file": csv_file(changed, header=rows[0]), "format": CSV_FORMAT, "resource": "0"},
    )
    admin_client.post(f"{url}process_import/", answer.context["confirm_form"].initial)
    medium.refresh_from_db()
    assert medium.stock == 0
    change = StockChange.objects.get()
    assert (change.variant, change.change, change.reason) == (medium, -1, "import")
    one = admin_client.get(f"{url}{small.pk}/change/").text  # read only: counts change on the
    assert 'name="_save"' not in one  # listing's page (never undoing a sale) or by import
