"""Refresh the README's screenshots (a band page on a phone and a laptop, an item's page on a
laptop) from the demo data, pictures included.

Usage: .venv/bin/python scripts/screenshots.py   (or: make screenshots)

Builds a throwaway SQLite database with the demo data, serves it with Django's development
server on 127.0.0.1, and photographs the pages with Debian's Chromium.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
from listings.tests.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from listings.tests.servers import free_port, wait_until_healthy  # noqa: E402

OUT = BASE_DIR / "docs" / "screenshots"
# file: (width, height, how to get to the page from the search box)
SHOTS = {
    "band-phone.png": (375, 812, "de la soul", "#results-bands + ul"),
    "band-laptop.png": (1280, 900, "de la soul", "#results-bands + ul"),
    "listing-laptop.png": (1280, 900, "hoodie", ".cards"),
}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DJANGO_DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{tmp}/demo.sqlite3",
            "DJANGO_MEDIA_ROOT": f"{tmp}/media",
        }

        def manage(*args, **kwargs):
            return subprocess.run(
                [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True, **kwargs
            )

        manage("migrate", "--noinput", "--verbosity", "0")
        manage("loaddemo", "--verbosity", "0")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            if not wait_until_healthy(base):
                sys.exit("screenshots: the development server did not start")
            shoot(base)
        finally:
            server.terminate()
            server.wait(timeout=10)


def shoot(base):
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, (width, height, query, results) in SHOTS.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{base}/search/?q={query}")
            page.locator(results).get_by_role("link").first.click()
            # Lazy pictures load as they come into view: scroll through the page first.
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            page.wait_for_load_state("networkidle")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=OUT / name, full_page=True)
            print(f"wrote {(OUT / name).relative_to(BASE_DIR)}")
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
