"""Lighthouse (mobile preset) on the fan pages with pictures, as served in production.

Usage: .venv/bin/python scripts/lighthouse.py   (or: make lighthouse)

Builds a throwaway SQLite database with the demo data and its pictures, serves it as `make serve`
does (gunicorn, production settings) behind the README's nginx locations (pictures from disk),
and runs Lighthouse in Debian's Chromium on the home page, a band page, the shop list and a
listing page with pictures. Prints the four category scores of each page, and every audit that
did not pass in full. It asserts nothing: the README quotes its output.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR / "scripts"))
sys.path.insert(0, str(BASE_DIR))
from bench import Server, manage, production_env  # noqa: E402

from listings.tests.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from listings.tests.servers import Nginx, wait_until_healthy  # noqa: E402

# Its own npm manifest (scripts/lighthouse-runner): make test never installs it.
LIGHTHOUSE = BASE_DIR / "scripts" / "lighthouse-runner" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
PAGES = r"""
import json
from listings.models import Band, Listing
print(json.dumps({
    "home": "/",
    "band page": Band.objects.get(name="De La Soul").get_absolute_url(),
    "shop list": "/listings/",
    "listing page": Listing.objects.get(title="De La Soul hoodie").get_absolute_url(),
}))
"""


def audit(url, folder):
    report = Path(folder) / "report.json"
    flags = [*CHROMIUM_ARGS, f"--user-data-dir={folder}/chromium"]
    subprocess.run(
        [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}"]
        + [f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={' '.join(flags)}"],
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        check=True,
        timeout=300,
    )
    data = json.loads(report.read_text())
    scores = {key: round(data["categories"][key]["score"] * 100) for key in CATEGORIES}
    shortfalls = [
        f"{category}: {data['audits'][ref['id']]['title']}"
        for category in CATEGORIES
        for ref in data["categories"][category]["auditRefs"]
        if ref["weight"] > 0
        and (data["audits"][ref["id"]]["score"] or 0) < 1
        and data["audits"][ref["id"]]["scoreDisplayMode"] not in ("notApplicable", "manual")
    ]
    return scores, shortfalls, data["lighthouseVersion"]


def main():
    if not LIGHTHOUSE.exists():
        sys.exit("lighthouse: not installed (make lighthouse runs npm ci first)")
    with tempfile.TemporaryDirectory() as tmp:
        env = production_env(
            tmp,
            DATABASE_URL=f"sqlite:///{tmp}/lighthouse.sqlite3",
            MERCHEX_CACHE_DIR=f"{tmp}/cache",
        )
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        manage(env, "loaddemo", "--verbosity", "0")
        shell = ["shell", "--no-imports", "-c", PAGES]
        pages = json.loads(manage(env, *shell, capture_output=True, text=True).stdout)
        with (
            Server(env) as server,
            Nginx(BASE_DIR, tmp, f"{tmp}/media", server.port) as proxy,
        ):
            if not wait_until_healthy(proxy.base):
                sys.exit("lighthouse: the site did not start")
            rows, notes, version = [], [], ""
            for name, path in pages.items():
                scores, shortfalls, version = audit(proxy.base + path, tmp)
                rows.append(f"| {name} | " + " | ".join(str(scores[c]) for c in CATEGORIES) + " |")
                notes += [f"- {name}: {shortfall}" for shortfall in shortfalls]
    print(f"Lighthouse {version}, mobile preset, Debian's Chromium, `make serve` behind nginx\n")
    print("| page | performance | accessibility | best practices | SEO |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))
    print("\nAudits not passed in full:" if notes else "\nEvery scored audit passed.")
    print("\n".join(notes))


if __name__ == "__main__":
    main()
