"""Refresh the README's screenshots of a band page (phone and laptop) from the demo data.

Usage: .venv/bin/python scripts/screenshots.py   (or: make screenshots)

Builds a throwaway SQLite database with the demo data, serves it with Django's development
server on 127.0.0.1, and photographs De La Soul's page with Debian's Chromium.
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
SHOTS = {"band-phone.png": (375, 812), "band-laptop.png": (1280, 900)}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DJANGO_DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{tmp}/demo.sqlite3",
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
        for name, (width, height) in SHOTS.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{base}/search/?q=de+la+soul")
            page.locator("#results-bands + ul").get_by_role("link").first.click()
            page.screenshot(path=OUT / name, full_page=True)
            print(f"wrote {(OUT / name).relative_to(BASE_DIR)}")
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
