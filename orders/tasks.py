"""Emails, sent off the request by the task worker (settings.TASKS)."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_tasks import task

SUBJECTS = {
    "paid": "Your merchex order {reference}",
    "shipped": "Your merchex order {reference} is on its way",
    "refunded": "Your merchex order {reference}: refund",
}


@task()
def order_email(order_id, kind):
    """Tell the fan their order is paid, shipped or refunded."""
    from orders.models import Order

    order = Order.objects.prefetch_related("lines").get(pk=order_id)
    context = {"order": order, "kind": kind, "origin": settings.MERCHEX_ORIGIN}
    send_mail(
        SUBJECTS[kind].format(reference=order.reference),
        render_to_string("orders/email.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [order.email],
    )


@task()
def staff_email(order_id, text):
    """Tell the shop about an order that needs a person."""
    from orders.models import Order

    order = Order.objects.get(pk=order_id)
    send_mail(
        f"[merchex] Order {order.reference} needs you",
        f"{text}\n\nOrder {order.reference}, {order.email}, {order.total} {order.currency}.",
        settings.DEFAULT_FROM_EMAIL,
        [settings.MERCHEX_CONTACT_EMAIL],
    )
