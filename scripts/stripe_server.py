"""Start localstripe (a Stripe-compatible test server: a test tool, GPL, installed from PyPI by
requirements-run.txt and never part of a deployment) on 127.0.0.1 with a fresh state.

    python scripts/stripe_server.py PORT [WEBHOOK_URL WEBHOOK_SECRET]

localstripe itself listens on every interface and keeps its state in /tmp/localstripe.pickle,
shared by every run on the machine; this starts it on 127.0.0.1 only, its state dies with the
process, and its signed webhooks go to WEBHOOK_URL. Used by `make run` and the tests.
"""

import sys

from aiohttp import web
from localstripe import resources, server, webhooks

resources.Store.dump_to_disk = lambda store: None  # the state stays in this process alone
if len(sys.argv) == 4:
    webhooks.register_webhook("merchex", sys.argv[2], sys.argv[3], None)
web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
