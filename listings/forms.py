from django import forms
from django.db.models import F
from django.db.models.lookups import IsNull

from listings.models import Band, Listing
from listings.origin import absolute_url
from listings.tasks import contact_email


def clean_text(value):
    """User text made safe to query with: no NUL (PostgreSQL refuses it in text), no lone
    surrogates (unencodable) or other control characters; runs of white space become one."""
    kept = "".join(c for c in value if c.isprintable() or c.isspace())
    return " ".join(kept.split())


class ListingFilterForm(forms.Form):
    """What a fan can narrow a band's merch down to. Invalid values are dropped, not fatal."""

    type = forms.ChoiceField(choices=[("", "All types"), *Listing.Type.choices], required=False)
    available = forms.BooleanField(required=False, label="Available only")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)

    @property
    def filtered(self):
        """Whether any of the form's filters is in the query (the page shows "Clear")."""
        return any(name in self.data for name in self.fields)

    def filter(self, listings):
        self.is_valid()  # invalid fields are left out of cleaned_data and reported in the page
        data = self.cleaned_data
        if data.get("type"):
            listings = listings.filter(type=data["type"])
        if data.get("available"):
            listings = listings.available()
        return listings


class ShopFilterForm(ListingFilterForm):
    """The whole shop: also by the band's genre, and sorted."""

    # Each order is served by an index (Listing.Meta.indexes): a page never sorts the table.
    # Unknown years and prices go last by sorting on "is empty" first, which plain indexes serve
    # on SQLite and PostgreSQL alike (an SQLite index cannot say NULLS LAST).
    SORTS = {
        "newest": ("Newest", ["sold", "-created_at", "-id"]),
        "title": ("Title, A to Z", ["sold", "title", "id"]),
        "year": ("Year, newest first", ["sold", IsNull(F("year"), True), "-year", "-id"]),
        # "Price on request" last, after every price (sold out ones included).
        "price": ("Price, low to high", [IsNull(F("price"), True), "sold", "price", "id"]),
        "price-desc": ("Price, high to low", [IsNull(F("price"), True), "sold", "-price", "-id"]),
    }

    genre = forms.ChoiceField(required=False, label="Band genre")
    sort = forms.ChoiceField(
        choices=[(key, label) for key, (label, _) in SORTS.items()], required=False, label="Sort by"
    )
    field_order = ["type", "genre", "available", "sort"]

    def __init__(self, *args, genres=(), **kwargs):
        """`genres`: [(genre, listings)] with merch to find (genres_with_merch)."""
        super().__init__(*args, **kwargs)
        labels = dict(Band.Genre.choices)
        self.fields["genre"].choices = [
            ("", "All genres"),
            *((genre, f"{labels[genre]} ({count})") for genre, count in genres),
        ]

    def filter(self, listings):
        listings = super().filter(listings)
        if self.cleaned_data.get("genre"):
            listings = listings.filter(band__genre=self.cleaned_data["genre"])
        return listings.order_by(*self.SORTS[self.cleaned_data.get("sort") or "newest"][1])


class ContactForm(forms.Form):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(
        label="Your email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    message = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))
    listing = forms.ModelChoiceField(
        queryset=Listing.objects.public().only("title"),
        required=False,
        widget=forms.HiddenInput,
        error_messages={
            "invalid_choice": "The item this message was about is no longer in the shop.",
        },
    )
    # A honeypot: hidden from people by the stylesheet, filled in by simple bots.
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def full_clean(self):
        super().full_clean()
        # The page comes back with the cursor in the first field to correct (no script needed).
        for name, field in self.fields.items():
            if name in self.errors and not field.widget.is_hidden:
                field.widget.attrs["autofocus"] = True
                break

    def is_spam(self):
        return bool(self.cleaned_data.get("website"))

    def send(self, request):
        """Email the shop; the visitor goes in Reply-To, never in the forged From."""
        data = self.cleaned_data
        name = " ".join(data["name"].split())  # no line breaks in the Subject header
        lines = [f"From: {name} <{data['email']}>"]
        if data["listing"]:
            url = absolute_url(request, data["listing"].get_absolute_url())
            lines.append(f"About: {data['listing'].title} ({url})")
        lines += ["", data["message"]]
        subject = f"[merchex] Message from {name}"
        contact_email.enqueue(subject, "\n".join(lines), data["email"])
