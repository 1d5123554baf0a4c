"""Checkout, payment through Stripe (localstripe), webhooks, and the holds that keep the last
item from being sold twice."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from listings.models import StockChange, Variant
from orders import payments
from orders.models import Order, ShippingRegion, WebhookEvent
from orders.tests.conftest import ADDRESS, add, check_out, option
from orders.tests.stripe_server import signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed(client, stripe, tee):
    """A fan who put one S and two L in the cart and checked out: an order awaiting payment."""
    add(client, tee, option(tee, "S"))
    add(client, tee, option(tee, "L"), 2)
    answer = check_out(client)
    assert answer.status_code == 302, answer.text
    return Order.objects.get()


def pay(client, stripe, order, number="4242424242424242"):
    client.get(f"/checkout/{order.reference}/pay/")  # makes the PaymentIntent
    token = stripe.card_token(number)
    return client.post(f"/checkout/{order.reference}/pay/card/", {"token": token})


def test_checkout_holds_the_units_and_totals_with_shipping(client, placed, tee):
    assert placed.status == "pending"
    assert placed.subtotal == Decimal("75.00")
    assert placed.shipping == Decimal("6.50")  # 4.50 for the first, 1.00 for each of two more
    assert placed.total == Decimal("81.50")
    assert timedelta(minutes=14) < placed.hold_until - timezone.now() <= timedelta(minutes=15)
    assert [str(line) for line in placed.lines.all()] == ["1 × Tour tee (S)", "2 × Tour tee (L)"]
    assert option(tee, "S").stock == 2  # held, not taken: a paid order takes it
    assert client.session["cart"] == {}
    page = client.get(tee.get_absolute_url()).text  # the hold shows at once
    assert "Only 1 left in S" in page


def test_checkout_posted_twice_makes_one_order(client, stripe, tee):
    add(client, tee, option(tee, "L"))
    page = client.get("/checkout/")
    data = {**ADDRESS, "checkout": page.context["form"]["checkout"].value()}
    first = client.post("/checkout/", data)
    second = client.post("/checkout/", data)
    assert Order.objects.count() == 1
    assert first["Location"] == second["Location"] == f"/checkout/{Order.objects.get()}/pay/"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "fan.example.com"}, "Enter a valid email address."),
        ({"name": "x" * 10_000}, "Ensure this value has at most 200 characters"),
        ({"country": "XX"}, "Select a valid choice."),
        ({"country": ""}, "This field is required."),
    ],
)
def test_bad_addresses_are_form_errors(client, stripe, tee, change, message):
    add(client, tee, option(tee, "L"))
    answer = check_out(client, **change)
    assert answer.status_code == 400
    assert message in answer.text
    assert not Order.objects.exists()


def test_a_country_the_shop_does_not_ship_to_cannot_check_out(client, stripe, tee):
    ShippingRegion.objects.filter(everywhere_else=True).delete()
    add(client, tee, option(tee, "L"))
    answer = check_out(client, country="JP")
    assert answer.status_code == 400
    assert "The shop does not ship to Japan." in answer.text
    europe = check_out(client, country="DE")
    assert europe.status_code == 302
    assert Order.objects.get().shipping == Decimal("9.00")


def test_a_price_changed_between_cart_and_checkout_is_shown_before_ordering(client, stripe, tee):
    size_l = option(tee, "L")
    add(client, tee, size_l)
    page = client.get("/checkout/")
    size_l.price = Decimal("40.00")
    size_l.save()
    data = {**ADDRESS, "checkout": page.context["form"]["checkout"].value()}
    refused = client.post("/checkout/", data)
    assert refused.status_code == 400
    assert "Tour tee (L) now costs 40.00 (it was 25.00)." in refused.text
    assert client.post("/checkout/", data).status_code == 302  # the fan saw it and goes on
    assert Order.objects.get().subtotal == Decimal("40.00")


def test_the_last_unit_held_by_one_fan_is_not_sold_to_another(
    client, stripe, tee, django_user_model
):
    from django.test import Client

    s = option(tee, "S")
    add(client, tee, s, 2)
    assert check_out(client).status_code == 302
    other = Client()
    assert add(other, tee, s).status_code == 400  # sold out while held
    Order.objects.update(hold_until=timezone.now() - timedelta(seconds=1))  # the hold runs out
    assert add(other, tee, s).status_code == 302  # no clean-up needed
    assert check_out(other).status_code == 302


def test_checkout_is_closed_without_stripe_keys(client, tee, settings):
    settings.STRIPE_SECRET_KEY = ""
    add(client, tee, option(tee, "L"))
    answer = client.get("/checkout/")
    assert answer.status_code == 503
    assert "Checkout is not open" in answer.text
    assert "Add to cart" in client.get(tee.get_absolute_url()).text  # the shop still browses


def test_the_payment_page_charges_the_servers_total_and_alone_loads_stripe(client, placed, stripe):
    page = client.get(f"/checkout/{placed.reference}/pay/")
    placed.refresh_from_db()
    intent = stripe.get(f"/v1/payment_intents/{placed.payment_intent}")
    assert intent["amount"] == 8150
    assert intent["currency"] == "eur"
    assert f'<script src="{stripe.base}/js.stripe.com/v3/" defer></script>' in page.text
    policy = page["Content-Security-Policy"]
    assert f"script-src 'self' {stripe.base}" in policy
    assert "unsafe-inline" not in policy
    assert stripe.base not in client.get("/cart/")["Content-Security-Policy"]
    again = client.get(f"/checkout/{placed.reference}/pay/")  # one PaymentIntent per order
    assert again.status_code == 200
    placed.refresh_from_db()
    assert placed.payment_intent == intent["id"]


def test_paying_takes_the_units_and_emails_the_fan(
    client, placed, stripe, tee, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = pay(client, stripe, placed)
    assert answer.json() == {"status": "succeeded", "next": placed.get_absolute_url()}
    placed.refresh_from_db()
    assert placed.status == "paid"
    assert option(tee, "S").stock == 1
    assert option(tee, "L").stock is None
    change = StockChange.objects.get()
    assert (change.change, change.stock, change.reason) == (-1, 1, "sale")
    assert change.order == placed.reference
    assert mail.outbox[-1].to == ["fan@example.com"]
    assert placed.reference in mail.outbox[-1].subject
    assert "Paid: thank you" in client.get(placed.get_absolute_url()).text
    back = client.get(f"/checkout/{placed.reference}/pay/")  # the back button after paying
    assert back.status_code == 302
    assert back["Location"] == placed.get_absolute_url()


def test_a_declined_card_says_so_and_keeps_the_order_payable(client, placed, stripe):
    answer = pay(client, stripe, placed, number="4000000000000341")
    assert answer.status_code == 402
    assert answer.json()["error"] == "The payment did not go through: Your card was declined."
    placed.refresh_from_db()
    assert placed.status == "pending"
    assert "Awaiting payment" in client.get(placed.get_absolute_url()).text


def test_the_last_units_sell_out_the_listing_everywhere(client, stripe, tee):
    Variant.objects.filter(listing=tee).exclude(name="S").update(stock=0)
    add(client, tee, option(tee, "S"), 2)
    check_out(client)
    pay(client, stripe, Order.objects.get())
    tee.refresh_from_db()
    assert tee.sold
    assert "Sold out" in client.get(tee.get_absolute_url()).text
    assert tee.title not in client.get("/listings/?available=on").text


def test_stripe_unreachable_is_a_clear_answer_and_charges_nothing(client, placed, settings):
    from listings.tests.servers import free_port

    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    answer = client.get(f"/checkout/{placed.reference}/pay/")
    assert answer.status_code == 503
    assert "The payment service did not answer. Nothing was charged" in answer.text
    placed.refresh_from_db()
    assert placed.status == "pending"
    assert placed.payment_intent is None
    assert placed.hold_until > timezone.now()


def test_going_back_to_the_cart_cancels_the_order_and_refills_the_cart(client, placed, tee):
    client.get(f"/checkout/{placed.reference}/pay/")
    answer = client.post(f"/checkout/{placed.reference}/cancel/", follow=True)
    assert "Your order is cancelled; its items are back in your cart." in answer.text
    placed.refresh_from_db()
    assert placed.status == "cancelled"
    assert len(client.session["cart"]) == 2


# Webhooks


def event(kind, intent_id, amount, event_id="evt_1"):
    obj = {"id": intent_id, "object": "payment_intent", "amount": amount, "currency": "eur"}
    return {"id": event_id, "object": "event", "type": kind, "data": {"object": obj}}


def post_event(client, body, signature):
    return client.post(
        "/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def with_intent(client, order):
    client.get(f"/checkout/{order.reference}/pay/")
    order.refresh_from_db()
    return order


def test_a_signed_webhook_marks_the_order_paid_once(client, placed, tee):
    order = with_intent(client, placed)
    body, signature = signed(event("payment_intent.succeeded", order.payment_intent, order.cents))
    assert post_event(client, body, signature).status_code == 200
    assert post_event(client, body, signature).status_code == 200  # a replay
    order.refresh_from_db()
    assert order.status == "paid"
    assert option(tee, "S").stock == 1  # taken once
    assert WebhookEvent.objects.filter(id="evt_1").count() == 1


@pytest.mark.parametrize("signature", ["", "t=1,v1=00", "nonsense"])
def test_an_unsigned_or_forged_webhook_is_refused(client, placed, signature):
    order = with_intent(client, placed)
    body = json.dumps(event("payment_intent.succeeded", order.payment_intent, order.cents))
    assert post_event(client, body, signature).status_code == 400
    forged, header = signed(
        event("payment_intent.succeeded", order.payment_intent, order.cents), secret="whsec_no"
    )
    assert post_event(client, forged, header).status_code == 400
    order.refresh_from_db()
    assert order.status == "pending"


def test_a_webhook_for_an_unknown_payment_changes_nothing(client, placed):
    body, signature = signed(event("payment_intent.succeeded", "pi_unknown", 100))
    assert post_event(client, body, signature).status_code == 200
    assert Order.objects.get().status == "pending"


def test_a_failure_after_success_does_not_unpay(client, placed):
    order = with_intent(client, placed)
    paid = event("payment_intent.succeeded", order.payment_intent, order.cents, "evt_1")
    failed = event("payment_intent.payment_failed", order.payment_intent, order.cents, "evt_2")
    post_event(client, *signed(paid))
    post_event(client, *signed(failed))
    order.refresh_from_db()
    assert order.status == "paid"


def test_a_payment_after_the_hold_ran_out_and_the_units_sold_is_refunded(
    client, stripe, tee, django_capture_on_commit_callbacks
):
    from django.test import Client

    s = option(tee, "S")
    add(client, tee, s, 2)
    check_out(client)
    late = with_intent(client, Order.objects.get())
    Order.objects.update(hold_until=timezone.now() - timedelta(seconds=1))
    other = Client()
    add(other, tee, s, 2)
    check_out(other)
    first = Order.objects.exclude(pk=late.pk).get()
    pay(other, stripe, first)  # the other fan takes both units
    payments.pay_with_card(late.payment_intent, stripe.card_token())  # paid, its webhook late
    body, signature = signed(event("payment_intent.succeeded", late.payment_intent, late.cents))
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, body, signature).status_code == 200
    late.refresh_from_db()
    assert late.status == "refunded"
    assert late.refunded == late.total
    assert "sold out while its hold had run out" in late.note
    refunds = stripe.get(f"/v1/refunds?payment_intent={late.payment_intent}")["data"]
    assert [refund["amount"] for refund in refunds] == [late.cents]
    assert option(tee, "S").stock == 0  # never below: nothing sold twice
    assert any("needs you" in message.subject for message in mail.outbox)


def test_a_cart_changed_in_another_tab_is_confirmed_again_then_ordered(client, stripe, tee):
    add(client, tee, option(tee, "L"))
    page = client.get("/checkout/")
    data = {**ADDRESS, "checkout": page.context["form"]["checkout"].value()}
    add(client, tee, option(tee, "S"))  # in another tab
    again = client.post("/checkout/", data)
    assert again.status_code == 400
    assert "Your cart changed in another tab" in again.text
    data["checkout"] = again.context["form"]["checkout"].value()
    assert client.post("/checkout/", data).status_code == 302
    assert Order.objects.get().lines.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("reference", ["a%00b", "%00", "x.y", "١٢٣"])
def test_a_reference_no_order_can_have_is_a_404(client, reference):
    for url in ["orders/{}/", "checkout/{}/pay/", "checkout/{}/pay/card/", "checkout/{}/cancel/"]:
        for method in [client.get, client.post]:
            response = method("/" + url.format(reference))
            assert response.status_code == 404, url  # PostgreSQL refuses a NUL: it was a 500


@pytest.mark.parametrize("token", ["a\x00b", "x" * 41, ""])
def test_a_checkout_token_no_form_can_hold_is_a_form_error(client, stripe, tee, token):
    add(client, tee, option(tee, "L"))
    client.get("/checkout/")
    response = client.post("/checkout/", {**ADDRESS, "checkout": token})
    assert response.status_code == 400  # PostgreSQL refuses a NUL in a query: it was a 500
    assert not Order.objects.exists()


@pytest.mark.parametrize("quantity", [20, 1000])
def test_an_order_past_what_stripe_can_charge_is_refused_before_it_is_made(
    client, stripe, tee, quantity
):
    """Stripe charges at most 999,999.99: such an order could not be paid, and a total past the
    column's 10 digits (1,000 × 99,999.99 and shipping) was a 500 on PostgreSQL."""
    tee.price, tee.max_per_order = Decimal("99999.99"), 1000
    tee.save()
    add(client, tee, option(tee, "L"), 9)
    assert check_out(client).status_code == 302  # 899,999.91 and shipping
    add(client, tee, option(tee, "L"), quantity)
    response = check_out(client)
    assert response.status_code == 400
    assert "An order can total at most 999,999.99 EUR" in response.text
    assert Order.objects.count() == 1
