"""How merchex starts Chromium: Debian's build (no browser download), headless, offline-friendly.

Shared by the browser tests (conftest.py) and scripts/screenshots.py; imports nothing from Django.
"""

import os

CHROMIUM = os.environ.get("MERCHEX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# The widths pages are checked at: a phone's and a laptop's.
VIEWPORTS = {"phone": {"width": 375, "height": 812}, "laptop": {"width": 1280, "height": 800}}
