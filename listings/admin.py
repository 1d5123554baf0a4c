import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportMixin

from listings.caching import CappedCountPaginator
from listings.forms import clean_text
from listings.info_pages import DEFAULTS as REQUIRED_INFO_PAGES
from listings.models import (
    Band,
    InfoPage,
    Listing,
    ListingPhoto,
    StockChange,
    Variant,
    pages_changed,
    parse_id,
    update_sold,
)
from listings.pictures import ACCEPT, PictureFormField, rendition_widths
from listings.resources import (
    FORMATS,
    BandResource,
    ListingResource,
    UploadForm,
    VariantResource,
)
from listings.sites import is_key

SEARCH_WORDS = 20  # words a listing search reads: SQLite refuses a query of about 1,000
LAST_POSITION = 32_767  # the largest home page position: a small integer on every database


def thumbnail(shown, size=64):
    """A small preview of a stored picture (its smallest rendition), or a dash."""
    if shown is None:
        return "—"
    width = rendition_widths(shown.width)[0]
    height = max(1, round(size * shown.height / shown.width))
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="" loading="lazy">',
        shown.url(width, "webp"),
        size,
        height,
    )


class LabelledRows(BaseInlineFormSet):
    """Rows of a table of inline forms: each input named by its column for screen readers
    (the table's headers are not labels), the Delete box included."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        for field in form.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label)


class BandPicker(AutocompleteSelect):
    """The band picker, saying "No band" when empty: select2's box needs a name."""

    def build_attrs(self, base_attrs, extra_attrs=None):
        return {**super().build_attrs(base_attrs, extra_attrs), "data-placeholder": "No band"}

    def optgroups(self, name, value, attr=None):
        # Django looks the chosen band up unchecked: "?band=abc", or a posted 2**66, was a 500.
        return super().optgroups(name, [pk for pk in value if is_key(Band, pk)], attr)


class NewestListingsFormSet(LabelledRows):
    """A band's newest listings only, so its change page stays small and saveable however many
    listings the band has (all of 2,000 would be posted back, past Django's
    DATA_UPLOAD_MAX_NUMBER_FIELDS). The rest are a link away, in the listing changelist."""

    shown = 20

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        listings = self.queryset.select_related("cover")
        if self.is_bound:
            # The rows posted back, even one no longer among the newest (another listing was
            # added meanwhile): it is still this band's listing, and its edit is kept.
            posted = (
                self.data.get(f"{self.prefix}-{n}-id") for n in range(self.total_form_count())
            )
            ids = [pk for pk in map(parse_id, posted) if pk]
            self.queryset = listings.filter(pk__in=ids[: self.shown + self.max_num])
        else:
            self.queryset = listings.order_by("-created_at", "-id")[: self.shown]


class NoSilentOverwrite(forms.ModelForm):
    """A change form (or inline row) opened before someone else saved the same row comes back
    saying what they changed instead of undoing it. What this person typed is kept; the fields
    they left alone now show the saved values, so saving again applies only their own edits."""

    opened = forms.CharField(widget=forms.HiddenInput, required=False)
    # Rows others change all the time (an option's stock, by sales): when this person changed
    # none of what others changed, save their edit over the current row instead of asking.
    merge_untouched = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["opened"].initial = self.snapshot()

    def model_fields(self):
        names = {field.name for field in self._meta.model._meta.concrete_fields}
        fields = self.fields.items()
        return [n for n, field in fields if n in names and not isinstance(field, forms.FileField)]

    def comparable(self, name, value):
        if isinstance(value, models.Model):
            value = value.pk
        return self._meta.model._meta.get_field(name).to_python(value)

    def stored(self, name):
        """The row's value of `name` (a related row's id, not the row: no query)."""
        return self._meta.model._meta.get_field(name).value_from_object(self.instance)

    def snapshot(self):
        """The row's values as this form shows them, to tell later what others changed."""
        values = {name: self.comparable(name, self.stored(name)) for name in self.model_fields()}
        return json.dumps(values, cls=DjangoJSONEncoder)

    def clean(self):
        data = super().clean()
        if not self.instance.pk or not data.get("opened"):
            return data
        try:
            opened = json.loads(data["opened"])
        except ValueError:
            opened = None
        if not isinstance(opened, dict):
            raise ValidationError("This form was damaged on the way: open the page again.")
        changed = [
            name
            for name in self.model_fields()
            if name in opened
            and self.comparable(name, self.stored(name)) != self.comparable(name, opened[name])
        ]
        if not changed:
            return data
        untouched = [
            name
            for name in changed
            if self.comparable(name, data.get(name)) == self.comparable(name, opened[name])
        ]
        if self.merge_untouched and untouched == changed:
            for name in untouched:  # theirs stands: nothing of this person's is lost either
                data[name] = getattr(self.instance, name)
            return data
        self.data = self.data.copy()
        for name in untouched:
            self.show_saved(name)  # left alone by this person: saving again keeps theirs
        self.data[self.add_prefix("opened")] = self.snapshot()
        when = timezone.localtime(self.instance.updated_at).strftime("%H:%M:%S")
        what = "; ".join(f"{self.fields[name].label} is now {self.saved(name)}" for name in changed)
        raise ValidationError(
            f"Someone else saved this {self._meta.model._meta.verbose_name} at {when}, after you "
            f"opened it: {what}. Nothing was saved. Fields you had not changed now show the saved "
            "values and what you typed is kept: check them and save again."
        )

    def saved(self, name):
        value = getattr(self.instance, name)
        if self._meta.model._meta.get_field(name).choices:
            return getattr(self.instance, f"get_{name}_display")()
        if isinstance(value, bool):
            return "yes" if value else "no"
        return "empty" if value in (None, "") else value

    def show_saved(self, name):
        key, value = self.add_prefix(name), self.stored(name)
        if isinstance(self.fields[name], forms.BooleanField):
            if value:
                self.data[key] = "on"
            else:
                self.data.pop(key, None)
        else:
            self.data[key] = "" if value is None else str(self.fields[name].prepare_value(value))


class ListingInline(admin.TabularInline):
    model = Listing
    form = NoSilentOverwrite
    formset = NewestListingsFormSet
    fields = ["thumbnail", "title", "type", "year", "price", "sold", "published", "opened"]
    readonly_fields = ["thumbnail"]
    verbose_name_plural = f"newest listings (up to {NewestListingsFormSet.shown})"
    extra = 1
    # New rows a single save can add: with the newest rows, well inside Django's field limit.
    max_num = NewestListingsFormSet.shown + 50
    show_change_link = True

    @admin.display(description="Picture")
    def thumbnail(self, listing):
        return thumbnail(listing.shown_picture)


class SpreadsheetImportExport(ImportExportMixin):
    """Import and export buttons on a changelist (listings.resources): import for staff who may
    add and change, export for staff who may view."""

    import_form_class = UploadForm
    formats = FORMATS

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request):
        return self.has_view_permission(request)


class IsSetFilter(admin.SimpleListFilter):
    """Two choices: rows where `field` is set, and rows where it is empty."""

    field = None
    labels = ("Set", "Empty")

    def lookups(self, request, model_admin):
        return [("yes", self.labels[0]), ("no", self.labels[1])]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(**{f"{self.field}__isnull": self.value() == "no"})
        return queryset


class FeaturedFilter(IsSetFilter):
    title = "home page"
    parameter_name = "featured"
    field = "featured_position"
    labels = ("Featured", "Not featured")


def locked(queryset):
    """The rows of `queryset`, locked now in primary-key order (SELECT ... FOR UPDATE), as a
    queryset to update or delete them by; their fan pages are refreshed when it commits.

    An UPDATE locks rows in whatever order its plan reads them. Staff writers that meet on the
    same rows (bulk actions, inline saves) all take them in this one order first, so none can
    hold a row that another waits for while waiting for one the other holds: no deadlock
    between them. Call it inside a transaction (the lock lasts until it ends).
    """
    rows = queryset.model.objects.filter(pk__in=queryset.values("pk"))
    pks = list(rows.select_for_update().order_by("pk").values_list("pk", flat=True))
    pages_changed(queryset.model, pks)
    return rows


class LockInOrder:
    """Inline saves (a band's listings, a listing's photos) lock the rows they change in
    primary-key order before writing them (see `locked`)."""

    def save_formset(self, request, form, formset, change):
        changed = [
            inline.instance.pk
            for inline in formset.initial_forms
            if inline.has_changed() or inline in formset.deleted_forms
        ]
        if changed:
            locked(formset.model.objects.filter(pk__in=changed))
        super().save_formset(request, form, formset, change)


class FeaturingActions:
    """Bulk actions that put bands or listings forward on the home page, or stop."""

    @admin.action(
        description="Feature selected %(verbose_name_plural)s on the home page",
        permissions=["change"],
    )
    def feature(self, request, queryset):
        """After those featured already, in the changelist's order."""
        model = self.model
        last = model.objects.aggregate(last=models.Max("featured_position"))["last"] or 0
        chosen = list(queryset.filter(featured_position__isnull=True).values_list("pk", flat=True))
        if last + len(chosen) > LAST_POSITION:
            self.message_user(
                request,
                f"Only {max(LAST_POSITION - last, 0):,} more can be featured: home page positions "
                f"end at {LAST_POSITION:,}. Nothing changed; give the featured ones lower "
                "positions on their pages first.",
                messages.ERROR,
            )
            return
        with transaction.atomic():
            locked(model.objects.filter(pk__in=chosen))
            for offset, pk in enumerate(chosen, start=1):
                model.objects.filter(pk=pk).update(
                    featured_position=last + offset, updated_at=timezone.now()
                )
        name = model._meta.verbose_name if len(chosen) == 1 else model._meta.verbose_name_plural
        self.message_user(
            request,
            f"{len(chosen)} {name} featured on the home page, after those featured already; "
            "change the order with each one's Home page position, on its page.",
            messages.SUCCESS,
        )

    @admin.action(
        description="Stop featuring selected %(verbose_name_plural)s", permissions=["change"]
    )
    def unfeature(self, request, queryset):
        with transaction.atomic():
            updated = locked(queryset.filter(featured_position__isnull=False)).update(
                featured_position=None, updated_at=timezone.now()
            )
        meta = self.model._meta
        name = meta.verbose_name if updated == 1 else meta.verbose_name_plural
        self.message_user(request, f"{updated} {name} no longer featured.", messages.SUCCESS)


class PublishingActions:
    """Bulk actions that publish bands or listings, or make them drafts again."""

    @admin.action(description="Publish selected %(verbose_name_plural)s", permissions=["change"])
    def publish(self, request, queryset):
        self._set_published(request, queryset, published=True)

    @admin.action(
        description="Make selected %(verbose_name_plural)s drafts (hidden from fans)",
        permissions=["change"],
    )
    def unpublish(self, request, queryset):
        self._set_published(request, queryset, published=False)

    def _set_published(self, request, queryset, *, published):
        with transaction.atomic():
            updated = locked(queryset).update(published=published, updated_at=timezone.now())
        meta = self.model._meta
        name = meta.verbose_name if updated == 1 else meta.verbose_name_plural
        state = "published" if published else "made drafts, hidden from fans"
        if not published and updated == 1:
            state = "made a draft, hidden from fans"
        self.message_user(request, f"{updated} {name} {state}.", messages.SUCCESS)


class CatalogueAdmin(
    LockInOrder,
    FeaturingActions,
    PublishingActions,
    SpreadsheetImportExport,
    admin.ModelAdmin,
):
    """What the band and listing admins share: bulk actions, import and export, rows locked in
    order, and changelists that stay quick at any size."""

    list_per_page = 50  # half the rows of Django's default: the page renders in half the time
    paginator = CappedCountPaginator  # no changelist counts a whole table
    show_full_result_count = False

    def action_checkbox(self, obj):
        """Each row's selection box written as the HTML Django's widget renders: the widget's
        three templates a row cost a 50-row changelist 25-35 % of its pages a second."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )


@admin.register(Band)
class BandAdmin(CatalogueAdmin):
    resource_classes = [BandResource]
    form = NoSilentOverwrite
    # The name first: each row's header and its one link (a picture-only link has no name).
    list_display = [
        "name",
        "thumbnail",
        "genre",
        "year_formed",
        "active",
        "published",
        "listing_count",
    ]
    list_display_links = ["name"]
    list_filter = ["published", FeaturedFilter, "genre", "active"]
    actions = ["publish", "unpublish", "feature", "unfeature"]
    search_fields = ["name"]
    inlines = [ListingInline]
    readonly_fields = ["picture_preview", "all_listings"]
    # A homepage typed as "band.example" is saved as https://band.example (Django 6.0's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).with_listing_count()

    def get_search_results(self, request, queryset, search_term):
        """Search (and the band picker's autocomplete) folds case and accents as the fan search
        does: "bjork" finds Björk."""
        term = clean_text(search_term)  # no NUL, which PostgreSQL refuses (a 500)
        return (queryset.matching(term), False) if term else (queryset, False)

    def delete_view(self, request, object_id, extra_context=None):
        band = self.get_object(request, object_id)
        if band is not None:
            listings = band.listings.all()
            extra_context = {
                **(extra_context or {}),
                "listings_kept": listings.count(),
                "listings_for_sale": listings.available().count(),
            }
        return super().delete_view(request, object_id, extra_context)

    @admin.display(description="Listings", ordering="listing_count")
    def listing_count(self, band):
        return band.listing_count

    @admin.display(description="Picture")
    def thumbnail(self, band):
        return thumbnail(band.shown_picture)

    @admin.display(description="Current picture")
    def picture_preview(self, band):
        return thumbnail(band.shown_picture, size=240)

    @admin.display(description="All listings")
    def all_listings(self, band):
        if band.pk is None:
            return "None yet: add the first ones below."
        url = reverse(admin_urlname(Listing._meta, "changelist"))
        count = band.listing_count
        label = ngettext("the %(count)s listing", "all %(count)s listings", count)
        return format_html(
            '<a href="{}?band__id__exact={}">{} of this band</a>',
            url,
            band.pk,
            label % {"count": f"{count:,}"},
        )


class ListingPhotoInline(admin.TabularInline):
    model = ListingPhoto
    formset = LabelledRows
    fields = ["preview", "image", "alt_text", "decorative", "position"]
    readonly_fields = ["preview"]
    extra = 0
    verbose_name = "picture"
    verbose_name_plural = "pictures (the first is the main one)"

    @admin.display(description="Preview")
    def preview(self, photo):
        return thumbnail(photo.shown_picture if photo.pk else None, size=120)


class VariantForm(NoSilentOverwrite):
    merge_untouched = True  # a sale since the page opened: a title fix still saves


class VariantInline(admin.TabularInline):
    model = Variant
    form = VariantForm  # a count edited from a form opened before a sale is refused
    formset = LabelledRows
    fields = ["name", "stock", "price", "sku", "position", "opened"]
    extra = 0
    min_num = 1  # every listing is sold through at least one option
    verbose_name_plural = "options and stock (a one-size item has one option with no name)"


def save_options(formset, by):
    """Save a listing's option rows. A count is saved as the change staff made to it, applied
    to the count as it is now, under a lock: a sale made since the page loaded is never undone."""
    saving = {
        form.instance.pk: form
        for form in formset.initial_forms
        if form.has_changed() and form not in formset.deleted_forms
    }
    with transaction.atomic():
        rows = Variant.objects.select_for_update().filter(pk__in=saving).order_by("pk")
        now = dict(rows.values_list("pk", "stock"))
        for pk, form in saving.items():
            was, wanted = form.initial.get("stock"), form.cleaned_data.get("stock")
            if None not in (was, wanted, now.get(pk)):
                form.instance.stock = max(0, now[pk] + wanted - was)
        saved = formset.save()
        for variant in saved:
            before = now.get(variant.pk)
            if variant.stock != before and (variant.pk in now or variant.stock is not None):
                StockChange.objects.create(
                    variant=variant,
                    change=(variant.stock or 0) - (before or 0),
                    stock=variant.stock,
                    reason=StockChange.Reason.STAFF,
                    by=by,
                )
        if saved:  # deleted options bring it in step themselves (models.option_deleted)
            update_sold([formset.instance.pk])


class MultiplePictureInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePictureField(PictureFormField):
    """Several pictures in one <input type="file" multiple>, each checked like a single one;
    a refused file is named in the error."""

    widget = MultiplePictureInput(attrs={"accept": ACCEPT})

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, (list, tuple)) else [data] if data else []
        cleaned, errors = [], []
        for upload in uploads:
            try:
                cleaned.append(super().clean(upload, initial))
            except ValidationError as exc:
                errors += [f"{upload.name}: {message}" for message in exc.messages]
        if errors:
            raise ValidationError(errors)
        return [upload for upload in cleaned if upload]


class ListingAdminForm(NoSilentOverwrite):
    add_pictures = MultiplePictureField(
        required=False,
        label="Add pictures",
        help_text="Choose one or several JPEG, PNG or WebP files; they go after the pictures "
        "above, in the order chosen.",
    )
    add_pictures_alt = forms.CharField(
        required=False,
        max_length=200,
        label="Description of the added pictures",
        help_text="What they show, for people who cannot see them (edit each one after saving).",
    )
    add_pictures_decorative = forms.BooleanField(
        required=False, label="The added pictures are decorative"
    )

    class Meta:
        model = Listing
        fields = [
            "title",
            "description",
            "type",
            "year",
            "price",
            "sold",
            "published",
            "featured_position",
            "band",
            "max_per_order",
        ]

    def clean(self):
        data = super().clean()
        if (
            data.get("add_pictures")
            and not data.get("add_pictures_alt", "").strip()
            and not data.get("add_pictures_decorative")
        ):
            message = 'Describe the pictures, or tick "decorative" if they add nothing.'
            self.add_error("add_pictures_alt", message)
        return data


class HasBandFilter(IsSetFilter):
    title = "band"
    parameter_name = "has_band"
    field = "band"
    labels = ("Has a band", "No band")


@admin.register(Listing)
class ListingAdmin(CatalogueAdmin):
    resource_classes = [ListingResource]
    form = ListingAdminForm
    inlines = [VariantInline, ListingPhotoInline]
    # The title first: each row's header and its one link. Nothing is edited in the list:
    # prices and counts are changed on the listing's page (options with stock), sold and
    # published with the bulk actions; 200 form widgets made the page wider than a laptop's
    # screen and took most of its time. One "Fans see" column says what published, sold and
    # the band's own state add up to.
    fieldsets = [
        ("What it is", {"fields": ["title", "band", "type", "year", "description", "opened"]}),
        (
            "Price and options",
            {
                "fields": ["price", "max_per_order"],
                "description": "Sizes or formats, each with its stock, are the options below.",
            },
        ),
        ("Visibility", {"fields": ["published", "sold", "featured_position"]}),
        ("Pictures", {"fields": ["add_pictures", "add_pictures_alt", "add_pictures_decorative"]}),
    ]
    list_display = ["title", "thumbnail", "band", "type", "price", "status", "featured_position"]
    list_display_links = ["title"]
    list_filter = ["published", FeaturedFilter, "type", "sold", HasBandFilter]
    search_fields = ["title", "band__name"]

    def get_search_results(self, request, queryset, search_term):
        """Title or band, folding case and accents as every search of the site: "bjork" finds
        Björk's merch, "homogenic" finds "Homogénic"."""
        words = clean_text(search_term).split()
        if len(words) > SEARCH_WORDS:
            words = words[:SEARCH_WORDS]
            messages.info(request, f"Only the first {SEARCH_WORDS} words were searched for.")
        return (queryset.matching(*words), False) if words else (queryset, False)

    autocomplete_fields = ["band"]
    list_select_related = ["band", "cover"]
    actions = ["mark_sold", "mark_available", "publish", "unpublish", "feature", "unfeature"]

    @admin.display(description="Picture")
    def thumbnail(self, listing):
        return thumbnail(listing.shown_picture)

    @admin.display(description="Fans see")
    def status(self, listing):
        """Published, sold and the band's own state in one word: what a fan finds."""
        if not listing.published:
            return "Draft"
        if listing.band and not listing.band.published:
            return "Hidden: its band is a draft"
        return "Sold out" if listing.sold else "On sale"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "band":
            kwargs["widget"] = BandPicker(db_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def render_change_form(self, request, context, *args, **kwargs):
        """A form that comes back with errors cannot keep the files chosen in it (browsers
        empty file inputs): say which to choose again."""
        chosen = [upload.name for _, uploads in request.FILES.lists() for upload in uploads]
        if chosen and request.method == "POST":
            names = ", ".join(chosen)
            message = f"The pictures you chose were not saved ({names}): choose them again."
            messages.warning(request, message)
        return super().render_change_form(request, context, *args, **kwargs)

    def save_formset(self, request, form, formset, change):
        if formset.model is Variant:
            save_options(formset, request.user.get_username())
        else:
            super().save_formset(request, form, formset, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        listing = form.instance
        uploads = form.cleaned_data.get("add_pictures") or []
        last = listing.photos.aggregate(last=models.Max("position"))["last"]
        start = 1 if last is None else last + 1
        for number, upload in enumerate(uploads):
            ListingPhoto(
                listing=listing,
                image=upload,
                alt_text=form.cleaned_data.get("add_pictures_alt", ""),
                decorative=form.cleaned_data.get("add_pictures_decorative", False),
                position=min(start + number, LAST_POSITION),  # ties keep upload order (by id)
            ).save()

    @admin.action(description="Mark selected listings as sold", permissions=["change"])
    def mark_sold(self, request, queryset):
        self._set_sold(request, queryset, sold=True)

    @admin.action(description="Mark selected listings as available", permissions=["change"])
    def mark_available(self, request, queryset):
        self._set_sold(request, queryset, sold=False)

    def _set_sold(self, request, queryset, *, sold):
        with transaction.atomic():
            updated = locked(queryset).update(sold=sold, updated_at=timezone.now())
        state = "sold" if sold else "available"
        self.message_user(
            request,
            ngettext(
                "%(count)d listing marked as %(state)s.",
                "%(count)d listings marked as %(state)s.",
                updated,
            )
            % {"count": updated, "state": state},
            messages.SUCCESS,
        )


@admin.register(InfoPage)
class InfoPageAdmin(admin.ModelAdmin):
    """The shop's information pages. The three the footer links (listings.info_pages) keep their
    address and cannot be deleted; staff may add others and link them from these."""

    list_display = ["title", "slug", "updated_at"]
    search_fields = ["title", "body"]
    fields = ["title", "slug", "summary", "body"]

    def is_required(self, obj):
        return obj is not None and obj.slug in REQUIRED_INFO_PAGES

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if self.is_required(obj) else []

    def get_prepopulated_fields(self, request, obj=None):
        return {} if self.is_required(obj) else {"slug": ["title"]}

    def has_delete_permission(self, request, obj=None):
        return not self.is_required(obj) and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Not "delete selected", which would take the required pages along.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(StockChange)
class StockChangeAdmin(admin.ModelAdmin):
    """Why a count is what it is: every sale, refund, staff edit and import, never edited."""

    list_display = ["at", "variant", "change", "stock", "reason", "order", "by"]
    list_filter = ["reason"]
    search_fields = ["variant__listing__title", "order", "by"]
    list_select_related = ["variant__listing"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Variant)
class VariantAdmin(SpreadsheetImportExport, admin.ModelAdmin):
    """Every option with its stock, to find and to import or export in bulk (a listing's own
    options are edited on its page)."""

    resource_classes = [VariantResource]
    list_display = ["listing", "name", "stock", "price", "sku"]
    list_select_related = ["listing"]
    search_fields = ["listing__title", "name", "sku"]
    list_per_page = 50
    paginator = CappedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # on their listing's page

    def has_change_permission(self, request, obj=None):
        return False  # on the listing's page (never undoing a sale), or by import

    def has_import_permission(self, request):
        return request.user.has_perm("listings.change_variant")
