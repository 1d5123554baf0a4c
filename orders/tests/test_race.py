"""Never oversold: 50 fans at once for an option with 10 left, through the whole WSGI stack
(each thread its own connection), against this run's database and localstripe."""

import json

from django.db import connection

from listings.tests.test_resilience import COMMON, PROBE_ENV, run_probe

RACE = (
    COMMON
    + r"""
import re
import urllib.request
from django.db import transaction
from django.test import Client
from listings.models import Listing, Variant
from orders.models import Order

STRIPE = os.environ["STRIPE_API_BASE"]
with transaction.atomic():  # its one option, counted, is given with it
    tee = Listing.objects.create(title="Last tees", type="Clothing", price=20)
    option = Variant.objects.create(listing=tee, name="M", stock=10)
counts, errors, lock, start = {}, [], threading.Lock(), threading.Barrier(50)


def record(outcome):
    with lock:
        counts[outcome] = counts.get(outcome, 0) + 1


def card_token():
    data = b"card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2035&card[cvc]=123"
    data += b"&key=" + os.environ["STRIPE_PUBLISHABLE_KEY"].encode()
    with urllib.request.urlopen(f"{STRIPE}/v1/tokens", data, timeout=20) as answer:
        return json.loads(answer.read())["id"]


def fan():
    client = Client()
    start.wait()
    added = client.post(f"/cart/add/{tee.pk}/", {"variant": option.pk, "quantity": 1})
    if added.status_code != 302:
        record(f"add {added.status_code} " + ("sold out" if "sold out" in added.text else "?"))
        return
    token = re.search(r'name="checkout" value="([^"]+)"', client.get("/checkout/").text)[1]
    address = {"email": "fan@example.com", "name": "Fan", "line1": "1 rue", "city": "Paris",
               "postal_code": "75001", "country": "FR", "checkout": token}
    placed = client.post("/checkout/", address)
    if placed.status_code != 302:
        told = "sold out" if "sold out" in placed.text else "?"
        record(f"checkout {placed.status_code} {told}")
        return
    reference = placed["Location"].split("/")[2]
    client.get(f"/checkout/{reference}/pay/")
    paid = client.post(f"/checkout/{reference}/pay/card/", {"token": card_token()})
    record(f"pay {paid.status_code} {paid.json().get('status')}")


def guarded():
    try:
        fan()
    except Exception as exc:
        errors.append(repr(exc) + traceback.format_exc()[-800:])


threads = [threading.Thread(target=guarded) for _ in range(50)]
[t.start() for t in threads]
[t.join() for t in threads]
option.refresh_from_db()
print(json.dumps({"counts": counts, "errors": errors, "stock": option.stock,
                  "paid": Order.objects.filter(status="paid").count(),
                  "sold": Listing.objects.get(pk=tee.pk).sold}))
"""
)


def test_fifty_fans_at_once_buy_exactly_the_ten_left(manage, stripe_server):
    postgres = connection.vendor == "postgresql"
    result = run_probe(
        manage, RACE, postgres=postgres, env={**PROBE_ENV, **stripe_server.settings()}
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["errors"] == [], outcome["errors"][:2]
    assert outcome["paid"] == 10, outcome
    assert outcome["stock"] == 0, outcome
    assert outcome["sold"] is True, outcome  # sold out everywhere now
    counts = outcome["counts"]
    assert counts.pop("pay 200 succeeded") == 10, counts
    assert all(kind.endswith("sold out") for kind in counts), counts  # every other fan told
    assert sum(counts.values()) == 40, counts
