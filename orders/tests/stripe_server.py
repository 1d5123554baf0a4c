"""A Stripe-compatible server (localstripe) for the tests, as Stripe.js and Stripe would be."""

import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from listings.tests.servers import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "stripe_server.py"
KEYS = {
    "STRIPE_SECRET_KEY": "sk_test_merchex",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_merchex",
    "STRIPE_WEBHOOK_SECRET": "whsec_merchex_tests",
}


class StripeServer:
    """scripts/stripe_server.py on 127.0.0.1 (a free port unless `port`), fresh state, its
    webhooks to `webhook` if given; for a `with`."""

    def __init__(self, port=None, webhook=None):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.webhook = [webhook, KEYS["STRIPE_WEBHOOK_SECRET"]] if webhook else []

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(self.port), *self.webhook],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.get("/v1/payment_intents")
                return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("localstripe did not start")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)

    def settings(self):
        return {
            **KEYS,
            "STRIPE_API_BASE": self.base,
            "STRIPE_JS_URL": f"{self.base}/js.stripe.com/v3/",
        }

    def request(self, method, path, data=None, key=KEYS["STRIPE_SECRET_KEY"]):
        body = None
        if data is not None:
            body = "&".join(f"{name}={value}" for name, value in data.items()).encode()
        request = urllib.request.Request(f"{self.base}{path}", data=body, method=method)
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def get(self, path):
        return self.request("GET", path)

    def card_token(self, number="4242424242424242"):
        """What Stripe.js's createToken gives the page for a card typed in."""
        card = {"number": number, "exp_month": "12", "exp_year": "2035", "cvc": "123"}
        data = {f"card[{name}]": value for name, value in card.items()}
        data["key"] = KEYS["STRIPE_PUBLISHABLE_KEY"]  # the page's publishable key, no secret
        return self.request("POST", "/v1/tokens", data, key=None)["id"]

    def send_webhooks_to(self, url):
        data = {"url": url, "secret": KEYS["STRIPE_WEBHOOK_SECRET"]}
        self.request("POST", "/_config/webhooks/merchex", data)


def signed(event, secret=KEYS["STRIPE_WEBHOOK_SECRET"], at=None):
    """A webhook body and its Stripe-Signature header, signed as Stripe signs them."""
    payload = json.dumps(event)
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return payload, f"t={at},v1={mac}"
