from django import forms
from django_countries import countries

from listings.forms import clean_text
from orders.models import ShippingRegion
from orders.stock import why_not

MOST = 10**6  # a quantity past this is a typing error, whatever the limits


class OptionSelect(forms.RadioSelect):
    """Sold-out options are shown, and cannot be chosen."""

    sold_out = frozenset()

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.sold_out:
            option["attrs"]["disabled"] = True
        return option


class AddToCartForm(forms.Form):
    """One option of one listing, in a quantity."""

    variant = forms.TypedChoiceField(coerce=int, label="Option", widget=OptionSelect)
    quantity = forms.IntegerField(min_value=1, max_value=MOST, initial=1)

    def __init__(self, listing, variants, *args, cart=None, **kwargs):
        """`variants`: the listing's options, each with the units `left` (cart.options)."""
        super().__init__(*args, **kwargs)
        self.listing, self.cart = listing, cart
        self.options = {variant.pk: variant for variant in variants}
        self.fields["variant"].choices = [(variant.pk, self.label(variant)) for variant in variants]
        self.fields["quantity"].widget.attrs["max"] = listing.max_per_order
        sellable = [variant for variant in variants if variant.left != 0]
        if sellable:
            self.fields["variant"].initial = sellable[0].pk
        if len(variants) == 1:
            self.fields["variant"].widget = forms.HiddenInput()
        else:
            sold_out = [variant for variant in variants if variant.left == 0]
            self.fields["variant"].widget.sold_out = {str(variant.pk) for variant in sold_out}

    def label(self, variant):
        text = variant.name or "One size"
        return f"{text} (sold out)" if variant.left == 0 else text

    def clean_variant(self):
        return self.options[self.cleaned_data["variant"]]

    def clean(self):
        data = super().clean()
        variant, quantity = data.get("variant"), data.get("quantity")
        if variant and quantity:
            in_cart = self.cart.quantity(variant) if self.cart else 0
            held_units = {variant.pk: variant.held or 0}  # read with the options (cart.options)
            problem = why_not(variant, in_cart + quantity, held_units)
            if problem:
                if in_cart:
                    problem += f" You have {in_cart} in your cart already."
                raise forms.ValidationError(problem)
        return data


class CartLineForm(forms.Form):
    """A new quantity for a line of the cart (0 takes it out)."""

    variant = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    quantity = forms.IntegerField(min_value=0, max_value=MOST)


class CheckoutForm(forms.Form):
    email = forms.EmailField(max_length=254)
    name = forms.CharField(max_length=200)
    line1 = forms.CharField(label="Address", max_length=200)
    line2 = forms.CharField(label="Address line 2 (optional)", max_length=200, required=False)
    city = forms.CharField(max_length=100)
    postal_code = forms.CharField(label="Postal code", max_length=20)
    country = forms.ChoiceField(choices=[("", "Choose a country"), *countries])
    checkout = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["line1"].widget.attrs["autocomplete"] = "address-line1"
        self.fields["line2"].widget.attrs["autocomplete"] = "address-line2"
        self.fields["city"].widget.attrs["autocomplete"] = "address-level2"
        self.fields["postal_code"].widget.attrs["autocomplete"] = "postal-code"
        self.fields["country"].widget.attrs["autocomplete"] = "country"

    def clean(self):
        data = super().clean()
        for name in ("name", "line1", "line2", "city", "postal_code"):
            if name in data:
                data[name] = clean_text(data[name])
        return data

    def clean_country(self):
        code = self.cleaned_data["country"]
        if ShippingRegion.for_country(code) is None:
            raise forms.ValidationError(f"The shop does not ship to {countries.name(code)}.")
        return code

    def details(self):
        data = self.cleaned_data
        return {name: data[name] for name in data if name != "checkout"}
