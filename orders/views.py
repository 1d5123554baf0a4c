import functools
import logging
from urllib.parse import urlsplit

from csp.constants import SELF
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from listings.models import Listing, Variant
from listings.views import crumbs
from orders import payments, stock
from orders.cart import Cart, options, summary
from orders.forms import AddToCartForm, CartLineForm, CheckoutForm
from orders.models import Order, WebhookEvent

logger = logging.getLogger(__name__)


def cart_crumbs(*trail):
    return crumbs(("Cart", reverse("orders:cart")), *trail)


@never_cache
@require_safe
def cart(request):
    basket = Cart(request.session)
    lines = basket.lines()
    context = {
        "lines": lines,
        "summary": summary(lines),
        "can_check_out": bool(lines) and not any(line.problem for line in lines),
        "breadcrumbs": crumbs(("Cart", None)),
    }
    response = render(request, "orders/cart.html", context)
    basket.acknowledge(lines)  # shown: checkout goes on at today's prices
    return response


@csrf_exempt  # product pages are cached for everyone, so they carry no CSRF token: see below
@require_POST
def cart_add(request, listing_id):
    # A form on another site may not fill a fan's cart (browsers say where a form came from).
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return HttpResponseForbidden("A cart is filled from this shop's own pages.")
    listing = get_object_or_404(Listing.objects.public(), pk=listing_id)
    basket = Cart(request.session)
    form = AddToCartForm(listing, options(listing), request.POST, cart=basket)
    if not form.is_valid():
        errors = [error for field in form.errors.values() for error in field]
        return cart_error(request, listing, " ".join(errors))
    variant, quantity = form.cleaned_data["variant"], form.cleaned_data["quantity"]
    if not basket.quantity(variant) and len(basket) >= settings.MERCHEX_CART_LINES:
        error = f"A cart holds at most {settings.MERCHEX_CART_LINES} different items."
        return cart_error(request, listing, error)
    basket.put(variant, basket.quantity(variant) + quantity)
    messages.success(request, f"{quantity} × {variant} added to your cart.")
    return redirect("orders:cart")


def cart_error(request, listing, error):
    """The add-to-cart form's answer to bad input: what went wrong, and the way back."""
    context = {"listing": listing, "error": error, "breadcrumbs": cart_crumbs(("Not added", None))}
    return render(request, "orders/cart_error.html", context, status=400)


@require_POST
def cart_update(request):
    basket = Cart(request.session)
    form = CartLineForm(request.POST)
    variant = None
    if form.is_valid():
        rows = Variant.objects.select_related("listing")
        variant = rows.filter(pk=form.cleaned_data["variant"]).first()
    if variant is None or not basket.quantity(variant):
        messages.error(request, "That item is not in your cart.")
        return redirect("orders:cart")
    quantity = form.cleaned_data["quantity"]
    limit = variant.listing.max_per_order
    if quantity > limit:
        messages.error(request, f"{variant}: at most {limit} per order.")
        return redirect("orders:cart")
    basket.put(variant, quantity)
    messages.success(request, f"{variant} removed." if not quantity else "Cart updated.")
    return redirect("orders:cart")


@never_cache
def checkout(request):
    basket = Cart(request.session)
    if not payments.is_open():
        return render(request, "orders/closed.html", {"breadcrumbs": cart_crumbs()}, status=503)
    lines = basket.lines()
    if request.method == "POST":
        form = CheckoutForm(request.POST)
        valid = form.is_valid()
        token = form.cleaned_data.get("checkout")  # None if refused: no NUL reaches a query
        placed = token and Order.objects.filter(checkout=token).first()
        if placed:  # posted twice: the order the first post made
            return redirect("orders:pay", placed.reference)
        if valid and token == basket.checkout:
            try:
                order = stock.place_order(basket.wanted(lines), form.details(), token)
            except stock.Unavailable as exc:
                for problem in exc.problems:
                    form.add_error(None, problem)
                basket.acknowledge(lines)  # the new prices are shown: the next post takes them
            except IntegrityError:  # the same form, posted twice at once
                order = get_object_or_404(Order, checkout=token)
                return redirect("orders:pay", order.reference)
            else:
                basket.clear()
                return redirect("orders:pay", order.reference)
        elif valid:
            form.add_error(None, "Your cart changed in another tab: check it and confirm again.")
            form.data = form.data.copy()
            form.data["checkout"] = basket.checkout  # confirming again orders the cart as it is
    else:
        form = CheckoutForm(initial={"checkout": basket.checkout})
        basket.acknowledge(lines)  # this page shows today's prices
    if not lines:
        return redirect("orders:cart")
    country = form.data.get("country") if form.is_bound else None
    context = {
        "form": form,
        "lines": lines,
        "summary": summary(
            lines, country if country in dict(form.fields["country"].choices) else None
        ),
        "hold_minutes": settings.MERCHEX_HOLD_MINUTES,
        "breadcrumbs": cart_crumbs(("Checkout", None)),
    }
    return render(request, "orders/checkout.html", context, status=400 if form.errors else 200)


def stripe_origins():
    def origin(url):
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    js, api = origin(settings.STRIPE_JS_URL), origin(settings.STRIPE_API_BASE)
    return {
        "script-src": [js],
        "connect-src": [SELF, *sorted({js, api})],  # and the page's own payment request
        "frame-src": sorted({js, "https://hooks.stripe.com"}),
    }


def loads_stripe(view):
    """The payment page alone runs JavaScript: Stripe.js, from exactly Stripe's origins."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        return csp_update(stripe_origins())(view)(request, *args, **kwargs)

    return wrapper


@never_cache
@loads_stripe
def pay(request, reference):
    order = get_object_or_404(Order, reference=reference)
    if order.status != Order.Status.PENDING:
        return redirect(order)  # paid already (the back button), or cancelled
    context = {"order": order, "breadcrumbs": cart_crumbs(("Payment", None))}
    if not payments.is_open():
        return render(request, "orders/closed.html", context, status=503)
    if not order.payment_intent:
        try:
            intent = payments.create_intent(order)
        except payments.PaymentError:
            logger.exception("stripe: no payment intent for order %s", order.reference)
            context["unreachable"] = True
            return render(request, "orders/pay.html", context, status=503)
        Order.objects.filter(pk=order.pk, payment_intent=None).update(payment_intent=intent.id)
        order.refresh_from_db()
    context["stripe_js"] = settings.STRIPE_JS_URL
    context["publishable_key"] = settings.STRIPE_PUBLISHABLE_KEY
    return render(request, "orders/pay.html", context)


@require_POST
def pay_card(request, reference):
    """The card Stripe.js tokenised pays the order's PaymentIntent; the page learns what next."""
    order = get_object_or_404(Order, reference=reference)
    done = {"next": order.get_absolute_url()}
    token = request.POST.get("token", "")
    if not order.payment_intent or not token.startswith("tok_"):
        return JsonResponse({"error": "Your card could not be read: try again."}, status=400)
    try:
        if not stock.renew_hold(order):
            return JsonResponse(done)  # paid or cancelled meanwhile
    except stock.Unavailable as exc:
        return JsonResponse({"error": " ".join(exc.problems), **done}, status=409)
    try:
        intent = payments.pay_with_card(order.payment_intent, token)
    except payments.PaymentError as exc:
        return JsonResponse({"error": f"The payment did not go through: {exc}"}, status=402)
    if intent.status == "succeeded":
        stock.settle(intent)  # the webhook says so too: an order is settled once
    answer = {"status": intent.status, **done}
    if intent.status == "requires_action":
        answer["client_secret"] = intent.client_secret
    return JsonResponse(answer)


@require_POST
def cancel(request, reference):
    """Back to the cart: the order's hold ends and its items go back in the cart."""
    order = get_object_or_404(Order, reference=reference, status=Order.Status.PENDING)
    try:
        cancelled = stock.cancel(order)
    except payments.PaymentError:
        messages.error(request, "The payment service did not answer: try again in a minute.")
        return redirect("orders:pay", reference)
    if not cancelled:
        return redirect(order)
    basket = Cart(request.session)
    for line in order.lines.select_related("variant__listing"):
        if line.variant:
            basket.put(line.variant, line.quantity)
    messages.success(request, "Your order is cancelled; its items are back in your cart.")
    return redirect("orders:cart")


@never_cache
@require_safe
def order(request, reference):
    """Where the fan lands after paying, and the link in their emails: the order's state."""
    order = get_object_or_404(Order, reference=reference)
    if order.status == Order.Status.PENDING and order.payment_intent:
        try:  # the webhook may still be on its way: ask Stripe
            intent = payments.retrieve_intent(order.payment_intent)
        except payments.PaymentError:
            intent = None
        if intent is not None and intent.status == "succeeded":
            order = stock.settle(intent)
    context = {
        "order": order,
        "lines": order.lines.all(),
        "breadcrumbs": crumbs(("Your order", None)),
    }
    return render(request, "orders/order.html", context)


@csrf_exempt  # Stripe signs its events instead
@require_POST
def webhook(request):
    try:
        event = payments.verified_event(request.body, request.headers.get("Stripe-Signature"))
    except ValueError:
        return HttpResponseBadRequest("bad signature\n", content_type="text/plain")
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(id=event.id, type=event.type)
            if event.type == "payment_intent.succeeded":
                stock.settle(event.data.object)
            elif event.type == "payment_intent.payment_failed":
                logger.info("stripe: payment %s failed", event.data.object.id)
    except IntegrityError:
        pass  # an event seen before: processed once
    return HttpResponse("ok\n", content_type="text/plain")
