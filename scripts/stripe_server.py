"""Start localstripe (a Stripe-compatible test server: a test tool, GPL, installed from PyPI by
requirements-dev.txt and never shipped) on 127.0.0.1 with a fresh, in-memory state.

    python scripts/stripe_server.py PORT

localstripe itself listens on every interface and keeps its state in /tmp/localstripe.pickle,
shared by every run on the machine; this starts it on 127.0.0.1 only, and its state dies with
the process. Used by `make run` (checkout offline with test cards) and by the tests.
"""

import sys

from aiohttp import web
from localstripe import resources, server

resources.Store.dump_to_disk = lambda store: None  # the state stays in this process alone
web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
