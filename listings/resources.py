"""Import and export of bands and listings (CSV, XLSX) in the admin, with django-import-export.

What a shop owner can count on:
- A preview first (django-import-export's dry run) that lists new, updated, unchanged and failing
  rows with the reason for each; nothing is written while any row fails, and the confirmed
  import runs in one transaction.
- Re-importing an export changes nothing (unchanged rows are skipped, and reported).
- Rows name their band by name, matched ignoring case and accents ("bjork" is Björk).
- An `id` names a row to update and must exist; new rows leave it empty. An id twice in one
  file is an error, not a silent second update.
- Every row passes the same validation as the admin's forms (type, price ≥ 0, a year from 1900
  to this year, a title).
- Exported cells beginning with =, +, - or @ are neutralised with a leading quote (as OWASP
  advises; django-import-export's own setting only drops a leading "=" and turns every cell into
  text), so no formula runs in the owner's spreadsheet; importing restores them.
- Files: CSV (UTF-8 with or without a byte-order mark, or Windows-1252/Latin-1, as Excel saves
  it) and XLSX, up to MERCHEX_IMPORT_MAX_BYTES; anything else is refused before it is read.
"""

import contextlib
import csv
import io

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.functions import Lower
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from import_export import fields, resources, widgets
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ImportForm
from openpyxl import load_workbook

from listings import caching
from listings.models import (
    Band,
    Listing,
    StockChange,
    Variant,
    fold,
    give_missing_options,
    update_sold,
)

FORMATS = [CSV, XLSX]
# What a spreadsheet takes for the start of a formula: such cells are exported behind a quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAGIC = b"PK\x03\x04"  # an XLSX file is a zip archive


class UploadForm(ImportForm):
    """The import page's form: size limit, content check, and the CSV's encoding."""

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("import_file")
        if upload is None or "format" not in cleaned:
            return cleaned
        limit = settings.MERCHEX_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                {
                    "import_file": f"This file is {filesizeformat(upload.size)}; the largest "
                    f"accepted is {filesizeformat(limit)}. Split it into several files."
                }
            )
        data = upload.read()
        upload.seek(0)
        if not data.strip():
            raise ValidationError({"import_file": "This file is empty."})
        chosen = FORMATS[int(cleaned["format"])]
        if chosen is XLSX:
            if not data.startswith(XLSX_MAGIC):
                raise ValidationError({"import_file": "This is not an Excel (.xlsx) file."})
            check_rows(spreadsheet_rows(data))
            return cleaned
        if data.startswith(XLSX_MAGIC) or b"\x00" in data:
            raise ValidationError(
                {
                    "import_file": "This is not a CSV file (it holds binary data): save the "
                    "spreadsheet as CSV, or choose the xlsx format."
                }
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Not UTF-8: Excel's "CSV" on Windows is Windows-1252 (Latin-1 and more). Re-encode
            # it as UTF-8, which the importer reads; the preview shows the text as read.
            text = data.decode("cp1252", errors="replace")
            cleaned["import_file"] = SimpleUploadedFile(
                upload.name, text.encode("utf-8"), content_type=upload.content_type
            )
        check_rows(sum(1 for _ in csv.reader(io.StringIO(text))) - 1)
        return cleaned


def spreadsheet_rows(data):
    """The rows under the header of an XLSX file's first sheet (0 if it cannot be read: the
    import then says what is wrong with it)."""
    try:
        with contextlib.closing(load_workbook(io.BytesIO(data), read_only=True)) as book:
            return sum(1 for _ in book.active.iter_rows(values_only=True)) - 1
    except Exception:  # openpyxl raises many kinds for a damaged file
        return 0


def check_rows(rows):
    """A file of more rows than one request imports in time is refused, with what to do."""
    limit = settings.MERCHEX_IMPORT_MAX_ROWS
    if rows > limit:
        raise ValidationError(
            {
                "import_file": f"This file has {rows:,} rows; at most {limit:,} are imported at "
                "a time. Split it into several files."
            }
        )


class BandByName(widgets.ForeignKeyWidget):
    """A band named in a cell, found ignoring case and accents; empty: no band."""

    def __init__(self):
        super().__init__(Band, "name")
        self.bands = None

    def clean(self, value, row=None, **kwargs):
        name = " ".join(str(value or "").split())
        if not name:
            return None
        if self.bands is None:  # every band, once per import: not one query per row
            self.bands = {fold(name): pk for pk, name in Band.objects.values_list("pk", "name")}
        pk = self.bands.get(fold(name))
        if pk is None:
            raise ValueError(f"No band named “{name}”: add it first, or import the bands first.")
        return Band(pk=pk, name=name)

    def render(self, value, obj=None, **kwargs):
        return value.name if value else ""


class ChoiceByValueOrLabel(widgets.CharWidget):
    """A choice given by its stored value or its label, in any case ("clothing", "Records")."""

    def __init__(self, choices):
        super().__init__()
        self.choices = {}
        for value, label in choices:
            self.choices[fold(value)] = value
            self.choices[fold(str(label))] = value

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            return ""
        if fold(text) not in self.choices:
            known = ", ".join(sorted(set(self.choices.values())))
            raise ValueError(f"Unknown value “{text}”: use one of {known}.")
        return self.choices[fold(text)]


class Price(widgets.DecimalWidget):
    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except (ArithmeticError, ValueError):
            raise ValueError(f"“{value}” is not a price: write it like 12.50.") from None


class YesNo(widgets.Widget):
    """A yes/no cell: yes/no, y/n, true/false or 1/0 in any case (or a spreadsheet's own
    TRUE/FALSE); anything else, an empty cell included, is a row error, never a guess."""

    WORDS = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False}
    WORDS |= {"false": False, "0": False}

    def __init__(self, column):
        super().__init__()
        self.column = column

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = str(value if value is not None else "").strip().lower().removesuffix(".0")
        if text not in self.WORDS:
            raise ValueError(f"“{value or ''}” in column {self.column} is not yes or no.")
        return self.WORDS[text]

    def render(self, value, obj=None, **kwargs):
        return "yes" if value else "no"


class Year(widgets.IntegerWidget):
    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except (ArithmeticError, ValueError):
            raise ValueError(f"“{value}” is not a year: write it like 1997.") from None


class CatalogueResource(resources.ModelResource):
    """What bands and listings share: ids that must exist, one row per id, fresh timestamps,
    formulas neutralised on the way out and restored on the way back."""

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        if isinstance(value, str) and value.startswith(FORMULA_START):
            return "'" + value  # text to any spreadsheet, never a formula (OWASP's advice)
        return value

    def get_instance(self, instance_loader, row):
        return self.instances.get(row["id"])  # all the file's rows to update: one query

    @staticmethod
    def parse_id(cell):
        """An id from a cell ("12", or 12.0 from a spreadsheet), None if empty; else ValueError."""
        text = str(cell if cell is not None else "").strip().removesuffix(".0")
        if not text:
            return None
        if not (text.isascii() and text.isdigit() and len(text) < 19):
            raise ValueError(text)
        return int(text)

    def before_import(self, dataset, **kwargs):
        self.seen_ids = {}
        self.instances = {}
        if "id" in dataset.headers:  # which of the file's ids exist: one query for the file
            numbers = []
            for cell in dataset["id"]:
                with contextlib.suppress(ValueError):  # reported on the cell's own row
                    numbers.append(self.parse_id(cell))
            self.instances = {obj.pk: obj for obj in self.get_queryset().filter(pk__in=numbers)}

    def before_import_row(self, row, row_number=None, **kwargs):
        for column, value in row.items():
            if (
                isinstance(value, str)
                and value.startswith("'")
                and value[1:].startswith(FORMULA_START)
            ):
                row[column] = value[1:]  # as exported: the quote is not part of the text
        try:
            number = self.parse_id(row.get("id"))
        except ValueError:
            raise ValidationError(
                {"id": f"“{row.get('id')}” is not an id: leave it empty for a new row."}
            ) from None
        row["id"] = number
        if number is None:
            return
        if number in self.seen_ids:
            raise ValidationError(
                {"id": f"The id {number} is also on row {self.seen_ids[number]} of the file."}
            )
        self.seen_ids[number] = row_number
        if number not in self.instances:
            name = self._meta.model._meta.verbose_name
            raise ValidationError(
                {"id": f"No {name} has the id {number}: leave it empty to add one."}
            )

    def get_bulk_update_fields(self):
        """The columns an update writes: not the id, nor what is only exported (pictures)."""
        ids = self._meta.import_id_fields
        return [
            name for name, field in self.fields.items() if name not in ids and not field.readonly
        ]

    def before_save_instance(self, instance, row, **kwargs):
        instance.updated_at = timezone.now()  # bulk updates skip auto_now

    def after_import(self, dataset, result, **kwargs):
        caching.bump_everything()  # bulk writes send no signals (a preview rolls back: no bump)


class CatalogueOptions:
    """The import options bands and listings share (each resource's Meta extends them)."""

    import_id_fields = ["id"]
    skip_unchanged = True
    report_skipped = True
    clean_model_instances = True
    use_bulk = True
    batch_size = 1000


class Position(widgets.IntegerWidget):
    def clean(self, value, row=None, **kwargs):
        try:
            number = super().clean(value, row, **kwargs)
        except (ArithmeticError, ValueError):
            number = 0
        if number is not None and number < 1:
            raise ValueError(f"“{value}” is not a home page position: 1, 2, 3… or empty.")
        return number


def position():
    return fields.Field(
        attribute="featured_position", column_name="home_page_position", widget=Position()
    )


def yes_no(name):
    return fields.Field(attribute=name, column_name=name, widget=YesNo(name))


class BandResource(CatalogueResource):
    active = yes_no("active")
    published = yes_no("published")
    year_formed = fields.Field(attribute="year_formed", column_name="year_formed", widget=Year())
    genre = fields.Field(
        attribute="genre", column_name="genre", widget=ChoiceByValueOrLabel(Band.Genre.choices)
    )
    featured_position = position()

    class Meta(CatalogueOptions):
        model = Band
        fields = [
            "id",
            "name",
            "genre",
            "year_formed",
            "active",
            "published",
            "official_homepage",
            "biography",
            "featured_position",
        ]


class ListingResource(CatalogueResource):
    sold = yes_no("sold")
    published = yes_no("published")
    band = fields.Field(attribute="band", column_name="band", widget=BandByName())
    price = fields.Field(attribute="price", column_name="price", widget=Price())
    year = fields.Field(attribute="year", column_name="year", widget=Year())
    type = fields.Field(
        attribute="type", column_name="type", widget=ChoiceByValueOrLabel(Listing.Type.choices)
    )
    featured_position = position()
    # Written for reference, never read back: pictures are uploaded in the admin.
    pictures = fields.Field(column_name="pictures", readonly=True)

    class Meta(CatalogueOptions):
        model = Listing
        fields = [
            "id",
            "title",
            "band",
            "type",
            "year",
            "price",
            "sold",
            "published",
            "description",
            "featured_position",
            "pictures",
        ]

    def dehydrate_pictures(self, listing):
        return " ".join(photo.image.name for photo in listing.photos.all())

    def get_queryset(self):
        return Listing.objects.select_related("band").prefetch_related("photos")

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.fields["band"].widget.bands = None  # bands added since the last import count
        self.new_rows = {}  # (band, title in lower case) of new rows: each once, not already here
        titles = set()
        if "title" in dataset.headers:
            titles = {" ".join(str(title or "").split()).lower() for title in dataset["title"]}
        existing = Listing.objects.annotate(lowered=Lower("title")).filter(lowered__in=titles)
        self.existing = {
            (band, title.lower()): pk
            for pk, band, title in existing.values_list("pk", "band", "title")
        }

    def before_import_row(self, row, row_number=None, **kwargs):
        super().before_import_row(row, row_number=row_number, **kwargs)
        if row.get("id") is not None or not str(row.get("title") or "").strip():
            return
        title = " ".join(str(row["title"]).split())
        try:
            band = self.fields["band"].widget.clean(row.get("band"))
        except ValueError:
            return  # reported on this row by the band's own column
        same = (band.pk if band else None, title.lower())
        if same in self.new_rows:
            raise ValidationError(
                {"title": f"“{title}” is also new on row {self.new_rows[same]} of the file."}
            )
        self.new_rows[same] = (row_number or 0) + 1  # as the spreadsheet numbers it
        if same in self.existing:
            raise ValidationError(
                {
                    "title": f"“{title}” is already a listing of this band (id "
                    f"{self.existing[same]}): give its id to update it, or change the title."
                }
            )

    def after_import(self, dataset, result, **kwargs):
        give_missing_options()  # new rows were written in bulk: no signal gave them one
        super().after_import(dataset, result, **kwargs)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The model's validation, less two queries a row that prove nothing new here: that
        the band exists (BandByName found it) and the price's database check (its validator
        says the same)."""
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=[*errors, "band"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)


class Count(widgets.IntegerWidget):
    """Units that can still be sold: a whole number from 0, or empty (not counted)."""

    def clean(self, value, row=None, **kwargs):
        try:
            number = super().clean(value, row, **kwargs)
        except (ArithmeticError, ValueError):
            number = -1
        if number is not None and number < 0:
            raise ValueError(f"“{value}” is not a stock: 0, 1, 2… or empty (not counted).")
        return number


class ListingById(widgets.ForeignKeyWidget):
    def __init__(self):
        super().__init__(Listing)

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except (Listing.DoesNotExist, ValueError):
            raise ValueError(f"No listing has the id “{value}”.") from None


class VariantResource(CatalogueResource):
    """Options and their stock: a count in the file is the count after the import (each change
    recorded, with the reason "import")."""

    listing = fields.Field(attribute="listing", column_name="listing", widget=ListingById())
    stock = fields.Field(attribute="stock", column_name="stock", widget=Count())
    price = fields.Field(attribute="price", column_name="price", widget=Price())

    class Meta(CatalogueOptions):
        model = Variant
        use_bulk = False  # each row saved: its stock change recorded, its pages refreshed
        fields = ["id", "listing", "name", "stock", "price", "sku", "position"]

    def get_queryset(self):
        return Variant.objects.select_related("listing")

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.counts = {pk: variant.stock for pk, variant in self.instances.items()}

    def after_save_instance(self, instance, row, **kwargs):
        before = self.counts.get(instance.pk)
        if instance.stock != before and not kwargs.get("dry_run"):
            StockChange.objects.create(
                variant=instance,
                change=(instance.stock or 0) - (before or 0),
                stock=instance.stock,
                reason=StockChange.Reason.IMPORT,
                by=getattr(kwargs.get("user"), "username", ""),
            )
            update_sold([instance.listing_id])
