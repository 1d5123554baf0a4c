from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import ngettext

from listings.caching import CappedCountPaginator
from listings.models import Band, Listing


class NewestListingsFormSet(BaseInlineFormSet):
    """A band's newest listings only, so its change page stays small and saveable however many
    listings the band has (every one of 2,000 used to be rendered and posted back, past Django's
    DATA_UPLOAD_MAX_NUMBER_FIELDS). The rest are a link away, in the listing changelist."""

    shown = 20

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.band_listings = self.queryset
        self.queryset = self.queryset.order_by("-created_at", "-id")[: self.shown]

    def _existing_object(self, pk):
        # A posted row that is no longer among the newest (another listing was added meanwhile)
        # is still this band's listing: the edit is kept, not dropped.
        obj = super()._existing_object(pk)
        if obj is None:
            obj = self.band_listings.filter(pk=pk).first()
            self._object_dict[pk] = obj
        return obj


class ListingInline(admin.TabularInline):
    model = Listing
    formset = NewestListingsFormSet
    fields = ["title", "type", "year", "price", "sold"]
    verbose_name_plural = f"newest listings (up to {NewestListingsFormSet.shown})"
    extra = 1
    # New rows a single save can add: with the newest rows, well inside Django's field limit.
    max_num = NewestListingsFormSet.shown + 50
    show_change_link = True


@admin.register(Band)
class BandAdmin(admin.ModelAdmin):
    list_display = ["name", "genre", "year_formed", "active", "listing_count"]
    list_filter = ["genre", "active"]
    search_fields = ["name"]
    inlines = [ListingInline]
    readonly_fields = ["all_listings"]
    list_per_page = 100
    paginator = CappedCountPaginator  # no changelist counts a whole table
    show_full_result_count = False
    # A homepage typed as "band.example" is saved as https://band.example (Django 6.0's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).with_listing_count()

    @admin.display(description="Listings", ordering="listing_count")
    def listing_count(self, band):
        return band.listing_count

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


class HasBandFilter(admin.SimpleListFilter):
    title = "band"
    parameter_name = "has_band"

    def lookups(self, request, model_admin):
        return [("yes", "Has a band"), ("no", "No band")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(band__isnull=False)
        if self.value() == "no":
            return queryset.orphans()
        return queryset


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ["title", "band", "type", "year", "sold"]
    list_filter = ["type", "sold", HasBandFilter]
    search_fields = ["title", "band__name"]
    autocomplete_fields = ["band"]
    list_select_related = ["band"]
    list_per_page = 100
    paginator = CappedCountPaginator  # no changelist counts a whole table
    show_full_result_count = False
    actions = ["mark_sold", "mark_available"]

    @admin.action(description="Mark selected listings as sold", permissions=["change"])
    def mark_sold(self, request, queryset):
        self._set_sold(request, queryset, sold=True)

    @admin.action(description="Mark selected listings as available", permissions=["change"])
    def mark_available(self, request, queryset):
        self._set_sold(request, queryset, sold=False)

    def _set_sold(self, request, queryset, *, sold):
        updated = queryset.update(sold=sold, updated_at=timezone.now())
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
