"""Holding, selling and restocking options' units: never the last one sold twice.

A checkout holds its units: its order awaits payment until `hold_until`, and its lines count
against the options' stock until then; an expired hold counts for nothing, with no clean-up.
Every write first locks the options it touches in primary-key order (SELECT … FOR UPDATE on
PostgreSQL; SQLite runs one writing transaction at a time, transaction_mode IMMEDIATE) and
then checks what is left, so two fans never both get the last unit and no two writers deadlock.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum, Value
from django.db.models.functions import Concat
from django.utils import timezone

from listings.models import Listing, StockChange, Variant, pages_changed, update_sold
from orders import payments, tasks
from orders.models import MAX_TOTAL, Order, OrderLine, ShippingRegion, to_cents

logger = logging.getLogger(__name__)


class Unavailable(Exception):
    """What stops an order, in words for the fan."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


def held(variant_ids, besides=None):
    """{option id: units held by orders awaiting payment}, but those of `besides`."""
    lines = OrderLine.objects.filter(variant__in=variant_ids, order__in=Order.objects.holding())
    if besides is not None:
        lines = lines.exclude(order=besides)
    units = lines.values("variant").annotate(units=Sum("quantity"))
    return dict(units.values_list("variant", "units"))


def left(variant, held_units):
    """Units of `variant` a fan may still order now; None: not counted."""
    if variant.stock is None:
        return None
    return max(0, variant.stock - held_units.get(variant.pk, 0))


def locked(variant_ids):
    """{id: option}, their rows locked in primary-key order until the transaction ends."""
    rows = Variant.objects.select_for_update(of=("self",)).select_related("listing__band")
    return {variant.pk: variant for variant in rows.filter(pk__in=variant_ids).order_by("pk")}


def why_not(variant, quantity, held_units, seen_price=None):
    """Why `quantity` of `variant` cannot be ordered now, or None."""
    if variant is None or not variant.listing.is_public:
        return "An item in your cart is no longer in the shop."
    name = str(variant)
    if variant.listing.sold or (left(variant, held_units) == 0):
        return f"{name} is sold out."
    if variant.unit_price is None:
        return f"{name} has no price: ask the shop about it."
    if quantity > variant.listing.max_per_order:
        return f"{name}: at most {variant.listing.max_per_order} per order."
    available = left(variant, held_units)
    if available is not None and available < quantity:
        return f"{name}: only {available} left."
    if seen_price is not None and seen_price != variant.unit_price:
        return f"{name} now costs {variant.unit_price:.2f} (it was {seen_price:.2f})."
    return None


def place_order(wanted, details, checkout):
    """The order for `wanted` ([(option id, quantity, unit price the fan saw)]) with its units
    held for MERCHEX_HOLD_MINUTES, or Unavailable. `details`: the checkout form's data."""
    region = ShippingRegion.for_country(details["country"])
    with transaction.atomic():
        variants = locked([variant_id for variant_id, _, _ in wanted])
        held_units = held(variants)
        problems = [
            why_not(variants.get(variant_id), quantity, held_units, seen)
            for variant_id, quantity, seen in wanted
        ]
        problems = [problem for problem in problems if problem]
        if region is None:
            problems.append("The shop does not ship to this country.")
        if not wanted:
            problems.append("Your cart is empty.")
        if problems:
            raise Unavailable(problems)
        subtotal = sum(variants[v].unit_price * quantity for v, quantity, _ in wanted)
        shipping = region.cost(sum(quantity for _, quantity, _ in wanted))
        if subtotal + shipping > MAX_TOTAL:
            currency = settings.MERCHEX_CURRENCY
            raise Unavailable(
                [f"An order can total at most {MAX_TOTAL:,} {currency}: order fewer items."]
            )
        order = Order.objects.create(
            checkout=checkout,
            **details,
            subtotal=subtotal,
            shipping=shipping,
            total=subtotal + shipping,
            currency=settings.MERCHEX_CURRENCY,
            hold_until=timezone.now() + timedelta(minutes=settings.MERCHEX_HOLD_MINUTES),
        )
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                variant=variants[variant_id],
                title=variants[variant_id].listing.title,
                option=variants[variant_id].name,
                quantity=quantity,
                unit_price=variants[variant_id].unit_price,
            )
            for variant_id, quantity, _ in wanted
        )
        # "Only N left" on their pages counts the hold.
        pages_changed(Listing, [variant.listing_id for variant in variants.values()])
    return order


def renew_hold(order):
    """Before paying: keep the order's units for another MERCHEX_HOLD_MINUTES, or Unavailable
    when its hold ran out and they are gone. False when the order no longer awaits payment."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.PENDING:
            return False
        lines = list(order.lines.all())
        variants = locked([line.variant_id for line in lines])
        held_units = held(variants, besides=order)
        problems = [
            why_not(variants.get(line.variant_id), line.quantity, held_units) for line in lines
        ]
        if any(problems):
            raise Unavailable([problem for problem in problems if problem])
        order.hold_until = timezone.now() + timedelta(minutes=settings.MERCHEX_HOLD_MINUTES)
        order.save(update_fields=["hold_until"])
    return True


def settle(intent):
    """A PaymentIntent succeeded: its order is paid and its units come off the stock, once,
    however often Stripe says so. A payment for an order whose hold ran out while its units
    sold, or that was cancelled meanwhile, is refunded, and staff are told."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(payment_intent=intent.id).first()
        if order is None:
            logger.warning("stripe: payment %s is for no order", intent.id)
            return None
        if order.status == Order.Status.CANCELLED and order.paid_at is None:
            return give_back(order, "It was paid after it had been cancelled.")
        if order.status != Order.Status.PENDING:
            return order  # handled already
        if intent.amount != order.cents or intent.currency != order.currency.lower():
            return give_back(
                order, f"Stripe took {intent.amount} {intent.currency}, not the total."
            )
        lines = list(order.lines.all())
        variants = locked([line.variant_id for line in lines])
        held_units = held(variants, besides=order)
        for line in lines:
            variant = variants.get(line.variant_id)
            available = left(variant, held_units) if variant else 0
            if available is not None and available < line.quantity:
                return give_back(order, f"{line} sold out while its hold had run out.")
        for line in lines:
            variant = variants[line.variant_id]
            if variant.stock is not None:
                Variant.objects.filter(pk=variant.pk).update(stock=F("stock") - line.quantity)
                record(variant, -line.quantity, StockChange.Reason.SALE, order.reference)
        order.status, order.paid_at = Order.Status.PAID, timezone.now()
        order.save(update_fields=["status", "paid_at"])
        update_sold({variant.listing_id for variant in variants.values()})
        pages_changed(Listing, [variant.listing_id for variant in variants.values()])
        transaction.on_commit(lambda: tasks.order_email.enqueue(order.pk, "paid"))
    return order


def give_back(order, why):
    """Cancel an order that was paid but cannot be filled, and refund it once it commits."""
    order.status = Order.Status.CANCELLED
    order.paid_at = timezone.now()
    order.note = f"{why} The payment is refunded in full.".strip()
    order.save(update_fields=["status", "paid_at", "note"])
    logger.warning("order %s: %s", order.reference, why)
    transaction.on_commit(lambda: refund_all(order.pk))
    return order


def refund_all(order_id):
    order = Order.objects.get(pk=order_id)
    try:
        payments.refund(order.payment_intent, order.cents, f"refund-{order.reference}-all")
    except payments.PaymentError as exc:
        note = f"The automatic refund failed ({exc}): refund it in the admin."
        Order.objects.filter(pk=order_id).update(note=Concat("note", Value(f" {note}")))
        tasks.staff_email.enqueue(order.pk, note)
        return
    Order.objects.filter(pk=order_id).update(status=Order.Status.REFUNDED, refunded=order.total)
    tasks.order_email.enqueue(order.pk, "refunded")
    tasks.staff_email.enqueue(order.pk, order.note)


def record(variant, change, reason, reference="", by=""):
    """Note a change to an option's count, with the count it left."""
    stock = Variant.objects.values_list("stock", flat=True).get(pk=variant.pk)
    StockChange.objects.create(
        variant=variant, change=change, stock=stock, reason=reason, order=reference, by=by
    )


def refund(order, quantities, restock, by):
    """Refund `quantities` ({line: units}) of a paid order through Stripe, with the shipping
    when nothing is left to ship; their units go back on sale when `restock`. Returns the
    amount, or raises PaymentError (nothing changed) or ValueError (nothing to refund)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in (Order.Status.PAID, Order.Status.SHIPPED):
            raise ValueError(f"Order {order.reference} is {order.get_status_display().lower()}.")
        lines = {line.pk: line for line in order.lines.all()}
        chosen = {}
        for line, units in quantities.items():
            line = lines[line.pk]
            units = min(units, line.quantity - line.refunded_quantity)
            if units > 0:
                chosen[line] = units
        if not chosen:
            raise ValueError("Nothing left to refund on these lines.")
        amount = sum(line.unit_price * units for line, units in chosen.items())
        for line, units in chosen.items():
            line.refunded_quantity += units
            line.save(update_fields=["refunded_quantity"])
        everything = all(line.refunded_quantity == line.quantity for line in lines.values())
        if everything:
            amount += order.shipping
        before = order.refunded
        order.refunded += amount
        order.status = Order.Status.REFUNDED if everything else order.status
        order.save(update_fields=["refunded", "status"])
    key = f"refund-{order.reference}-{to_cents(before)}-{to_cents(amount)}"
    try:
        payments.refund(order.payment_intent, to_cents(amount), key)
    except payments.PaymentError:
        with transaction.atomic():  # as it was: staff try again
            for line, units in chosen.items():
                OrderLine.objects.filter(pk=line.pk).update(
                    refunded_quantity=F("refunded_quantity") - units
                )
            status = Order.Status.PAID if order.shipped_at is None else Order.Status.SHIPPED
            Order.objects.filter(pk=order.pk).update(refunded=before, status=status)
        raise
    if restock:
        put_back(order, chosen, by)
    transaction.on_commit(lambda: tasks.order_email.enqueue(order.pk, "refunded"))
    return amount


def put_back(order, chosen, by):
    with transaction.atomic():
        variants = locked([line.variant_id for line in chosen])
        for line, units in chosen.items():
            variant = variants.get(line.variant_id)
            if variant is not None and variant.stock is not None:
                Variant.objects.filter(pk=variant.pk).update(stock=F("stock") + units)
                record(variant, units, StockChange.Reason.RESTOCK, order.reference, by)
        update_sold({variant.listing_id for variant in variants.values()})


def cancel(order):
    """The fan goes back to their cart: the order's hold ends, its payment is called off.
    False when it cannot be (paid meanwhile, or Stripe unreachable: PaymentError)."""
    if order.payment_intent:
        intent = payments.retrieve_intent(order.payment_intent)
        if intent.status in ("succeeded", "processing"):
            return False
        if intent.status != "canceled":
            payments.cancel_intent(order.payment_intent)
    with transaction.atomic():
        updated = Order.objects.filter(pk=order.pk, status=Order.Status.PENDING).update(
            status=Order.Status.CANCELLED, note="Cancelled by the fan before paying."
        )
        variants = Variant.objects.filter(order_lines__order=order)
        pages_changed(Listing, list(variants.values_list("listing_id", flat=True)))
    return bool(updated)
