"""Stripe, through its Python library: PaymentIntents for the server's total, refunds, and the
signature of its webhooks. STRIPE_API_BASE may point at a Stripe-compatible test server."""

import stripe
from django.conf import settings


class PaymentError(Exception):
    """Stripe could not be reached or refused the request: the fan or staff try again."""


def is_open():
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_PUBLISHABLE_KEY)


def client():
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=1,
        http_client=stripe.RequestsClient(timeout=(5, 20)),  # a fan waits seconds, not 80
    )


def call(method, *args, **kwargs):
    try:
        return method(*args, **kwargs)
    except stripe.StripeError as exc:
        raise PaymentError(exc.user_message or str(exc)) from exc


def create_intent(order):
    """A PaymentIntent for the order's total as computed here; Stripe keeps one per order
    (its idempotency key), however often this is called."""
    params = {
        "amount": order.cents,
        "currency": order.currency.lower(),
        "payment_method_types": ["card"],
        "metadata": {"order": order.reference},
    }
    options = {"idempotency_key": f"order-{order.reference}"}
    return call(client().v1.payment_intents.create, params=params, options=options)


def retrieve_intent(intent_id):
    return call(client().v1.payment_intents.retrieve, intent_id)


def pay_with_card(intent_id, token):
    """Confirm the PaymentIntent with the card Stripe.js tokenised in the fan's browser."""
    api = client().v1
    card = call(api.tokens.retrieve, token).card
    call(api.payment_intents.update, intent_id, params={"payment_method": card.id})
    return call(api.payment_intents.confirm, intent_id)


def cancel_intent(intent_id):
    return call(client().v1.payment_intents.cancel, intent_id)


def refund(intent_id, cents, key):
    """Give `cents` back; `key` makes a retried refund one refund."""
    params = {"payment_intent": intent_id, "amount": cents}
    return call(client().v1.refunds.create, params=params, options={"idempotency_key": key})


def verified_event(payload, signature):
    """The event Stripe signed, or ValueError (a bad payload or signature: answer 400)."""
    try:
        return stripe.Webhook.construct_event(
            payload, signature or "", settings.STRIPE_WEBHOOK_SECRET
        )
    except stripe.SignatureVerificationError as exc:
        raise ValueError(str(exc)) from exc
