import csv

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from orders import payments, stock, tasks
from orders.models import Order, OrderLine, ShippingRegion


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ["title", "option", "quantity", "unit_price", "refunded_quantity"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ShipForm(forms.Form):
    tracking_number = forms.CharField(max_length=100, required=False)


class RefundForm(forms.Form):
    restock = forms.BooleanField(
        required=False, initial=True, label="Return the refunded units to stock"
    )

    def __init__(self, order, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(order.lines.all())
        for line in self.lines:
            most = line.quantity - line.refunded_quantity
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                min_value=0, max_value=most, initial=most, label=f"{line} (at most {most})"
            )

    def quantities(self):
        return {line: self.cleaned_data[f"line_{line.pk}"] for line in self.lines}


class StateFilter(admin.SimpleListFilter):
    """The status, with unpaid orders split: still held, or not paid in time (their units are
    free again on their own; they stay as a record of the attempt)."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("held", "Awaiting payment"), ("lapsed", "Not paid in time")] + [
            choice for choice in Order.Status.choices if choice[0] != Order.Status.PENDING
        ]

    def queryset(self, request, queryset):
        pending = queryset.filter(status=Order.Status.PENDING)
        if self.value() == "held":
            return pending.filter(hold_until__gt=timezone.now())
        if self.value() == "lapsed":
            return pending.filter(hold_until__lte=timezone.now())
        if self.value() in Order.Status.values:
            return queryset.filter(status=self.value())
        return queryset


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["reference", "created_at", "name", "email", "country", "total", "state"]
    list_filter = [StateFilter, "created_at"]
    search_fields = ["reference", "email", "name"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline]
    actions = ["mark_shipped", "refund", "packing_list"]
    fields = [
        "reference",
        "status",
        ("email", "name"),
        ("line1", "line2"),
        ("postal_code", "city", "country"),
        ("subtotal", "shipping", "total", "refunded", "currency"),
        ("created_at", "paid_at", "shipped_at", "hold_until"),
        "payment_intent",
        "tracking_number",
        "note",
    ]
    readonly_fields = [
        name
        for row in fields
        for name in (row if isinstance(row, tuple) else [row])
        if name not in ("tracking_number", "note")
    ]

    def has_add_permission(self, request):
        return False  # orders come from checkout

    @admin.display(description="State", ordering="status")
    def state(self, order):
        return "Not paid in time" if order.expired else order.get_status_display()

    def has_delete_permission(self, request, obj=None):
        return False  # an order is a record of money taken: it is refunded, never deleted

    def has_refund_permission(self, request):
        return request.user.has_perm("orders.refund_order")

    @admin.action(
        description="Mark selected orders shipped (emails the fans)", permissions=["change"]
    )
    def mark_shipped(self, request, queryset):
        orders = list(queryset.filter(status=Order.Status.PAID))
        if not orders:
            self.message_user(request, "Only paid orders can be shipped.", messages.WARNING)
            return None
        forms_ = [ShipForm(request.POST or None, prefix=order.reference) for order in orders]
        if "apply" in request.POST and all(form.is_valid() for form in forms_):
            shipped = 0
            for order, form in zip(orders, forms_, strict=True):
                with transaction.atomic():
                    updated = Order.objects.filter(pk=order.pk, status=Order.Status.PAID).update(
                        status=Order.Status.SHIPPED,
                        shipped_at=timezone.now(),
                        tracking_number=form.cleaned_data["tracking_number"],
                    )
                    if updated:
                        shipped += 1
                        transaction.on_commit(
                            lambda pk=order.pk: tasks.order_email.enqueue(pk, "shipped")
                        )
            self.message_user(request, f"{shipped} order(s) marked shipped.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Mark orders shipped",
            "rows": list(zip(orders, forms_, strict=True)),
            "opts": self.model._meta,
            "action": "mark_shipped",
        }
        return TemplateResponse(request, "admin/orders/ship.html", context)

    @admin.action(description="Refund the selected order…", permissions=["refund"])
    def refund(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose one order to refund.", messages.WARNING)
            return None
        order = queryset.get()
        if order.status not in (Order.Status.PAID, Order.Status.SHIPPED):
            self.message_user(
                request,
                f"Order {order.reference} is {order.get_status_display().lower()}.",
                messages.WARNING,
            )
            return None
        form = RefundForm(order, request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                amount = stock.refund(
                    order,
                    form.quantities(),
                    form.cleaned_data["restock"],
                    request.user.get_username(),
                )
            except (ValueError, payments.PaymentError) as exc:
                self.message_user(request, f"Nothing was refunded: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Refunded {amount} {order.currency} of order {order.reference}.",
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund order {order.reference}",
            "order": order,
            "form": form,
            "opts": self.model._meta,
            "action": "refund",
        }
        return TemplateResponse(request, "admin/orders/refund.html", context)

    @admin.action(description="Packing list of the selected orders (CSV)", permissions=["view"])
    def packing_list(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="packing-list.csv"'
        writer = csv.writer(response)
        writer.writerow(
            ["order", "status", "name", "address", "country", "item", "option", "quantity"]
        )
        lines = OrderLine.objects.filter(order__in=queryset).select_related("order")
        for line in lines.order_by("order__created_at", "order_id", "id"):
            order = line.order
            address = ", ".join(
                p for p in [order.line1, order.line2, order.postal_code, order.city] if p
            )
            row = [order.reference, order.status, order.name, address, order.country.code]
            writer.writerow(
                [safe(value) for value in [*row, line.title, line.option, line.quantity]]
            )
        return response


def safe(value):
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@admin.register(ShippingRegion)
class ShippingRegionAdmin(admin.ModelAdmin):
    list_display = ["name", "first_item", "additional_item", "everywhere_else", "position"]
    list_editable = ["position"]
