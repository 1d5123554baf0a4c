from django.contrib import admin, messages
from django.db import models
from django.utils import timezone
from django.utils.translation import ngettext

from listings.caching import CappedCountPaginator
from listings.models import Band, Listing


class ListingInline(admin.TabularInline):
    model = Listing
    fields = ["title", "type", "year", "sold"]
    extra = 1
    show_change_link = True


@admin.register(Band)
class BandAdmin(admin.ModelAdmin):
    list_display = ["name", "genre", "year_formed", "active", "listing_count"]
    list_filter = ["genre", "active"]
    search_fields = ["name"]
    inlines = [ListingInline]
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
