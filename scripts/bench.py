"""merchex benchmark: figures for every fan page and admin changelist at 100,000 listings.

Usage: .venv/bin/python scripts/bench.py [--seconds N] [--rounds N] [--label NAME]
       (or: make bench)

Uses DATABASE_URL if set (make bench runs it on SQLite, then under scripts/postgres), else a
throwaway SQLite file. Builds the data set with the demo command (1,000 bands, 100,000 listings,
one band with 2,000), serves the site with gunicorn (2 workers, production settings) on
127.0.0.1, and loads each page with wrk (after one request), 2 seconds at a time. Prints one
table: SQL queries and response bytes (uncached), then requests/s, p50 and p99 latency
uncached, warm from the cache, and for a conditional GET answered 304, each with its ratio to a
bare HttpResponse view served by the same workers just before (the median of three such pairs).
It prints figures and asserts nothing about time.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
from listings.tests.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from listings.tests.servers import Nginx, free_port, wait_until_healthy  # noqa: E402

BANDS, LISTINGS, BIG_BAND = 1000, 100_000, 2000
WORKERS = 2

MEASURE = r"""
import json, sys
sys.path.insert(0, "scripts")
import bench_wsgi  # noqa: F401  (the site's URLs plus the bare view)
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.conf import settings
from django.core.cache import cache
from listings.models import Band, Listing
from listings.management.commands.loaddemo import SYNTHETIC_BAND_PREFIX

big = Band.objects.get(name=f"{SYNTHETIC_BAND_PREFIX}00001")
small = Band.objects.get(name="Cut Copy")
listing = Listing.objects.filter(band=small).first()
from listings.roles import sync_shop_staff
from listings.tests.admin_forms import sign_in_verified

# Shop staff: production settings keep a superuser without a second factor out of the admin.
user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
user.groups.add(sync_shop_staff())
pages = {
    "bare view": "/bench/bare/",
    "home": "/",
    "band list": "/bands/",
    f"band page ({big.listings.count():,} listings)": big.get_absolute_url(),
    f"band page ({small.listings.count()} listings)": small.get_absolute_url(),
    "listing list, first page": "/listings/",
    "listing list, last page": (
        f"/listings/?page={-(-Listing.objects.public().count() // settings.MERCHEX_PAGE_SIZE)}"
    ),
    "listing detail": listing.get_absolute_url(),
    # Search: a word on a quarter of the catalogue, one on a single item, two words, nothing.
    "search: common word (poster)": "/search/?q=poster",
    "search: rare word (neon)": "/search/?q=neon",
    "search: two words (foo poster)": "/search/?q=foo+poster",
    "search: no result (xylophone)": "/search/?q=xylophone",
    "admin: listings": "/admin/listings/listing/",
    "admin: bands": "/admin/listings/band/",
    f"admin: band change page ({big.listings.count():,} listings)": (
        f"/admin/listings/band/{big.pk}/change/"
    ),
}
client = Client()
sign_in_verified(client, user)  # with a second factor, as production asks of editors
rows = {}
for name, url in pages.items():
    cache.clear()  # cold: no page or count cached
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, follow=True)
    assert response.status_code == 200, (url, response.status_code)
    assert not response.redirect_chain, (url, response.redirect_chain)  # the page itself
    query = response.request.get("QUERY_STRING")
    url = response.request["PATH_INFO"] + (f"?{query}" if query else "")
    rows[name] = {"url": url, "queries": len(queries), "bytes": len(response.content)}
print(json.dumps({"pages": rows, "session": client.cookies["sessionid"].value}))
"""


IMPORT = r"""
import json, time
import tablib
from django.db import connection
from listings.models import Band, Listing
from listings.resources import ListingResource

names = list(Band.objects.order_by("?").values_list("name", flat=True)[:200])
rows = tablib.Dataset(headers=["id", "title", "band", "type", "year", "price", "sold"])
for number in range(10_000):
    rows.append(["", f"Imported item {number}", names[number % len(names)].upper(), "clothing",
                 "1999", "12.50", "0"])
before = Listing.objects.count()
timings = {}
for step, dry_run in [("preview", True), ("import", False)]:  # as the admin does: both
    started = time.perf_counter()
    result = ListingResource().import_data(rows, dry_run=dry_run, use_transactions=True)
    timings[step] = time.perf_counter() - started
    assert not result.has_errors() and not result.has_validation_errors()
assert Listing.objects.count() == before + 10_000
print(json.dumps(timings))
"""


def print_import(label, env):
    """Seconds to import 10,000 new listings from a spreadsheet, preview and import."""
    out = manage(env, "shell", "--no-imports", "-c", IMPORT, capture_output=True, text=True).stdout
    timings = json.loads(out.strip().splitlines()[-1])
    print(
        f"\n{label}: importing 10,000 listings (CSV rows for 200 bands named in capitals): "
        f"preview {timings['preview']:.1f} s, import {timings['import']:.1f} s"
    )


def production_env(tmp, **overrides):
    """The environment of a throwaway site with production settings (as `make serve` runs it,
    without HTTPS), its files in `tmp`."""
    return {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_HTTPS": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
        "DJANGO_STATIC_ROOT": f"{tmp}/static",
        "DJANGO_MEDIA_ROOT": f"{tmp}/media",
        "DJANGO_LOG_LEVEL": "WARNING",
        **overrides,
    }


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, cwd=BASE_DIR, env=env, check=True, **kwargs)


def manage(env, *args, **kwargs):
    return run([sys.executable, "manage.py", *args], env, **kwargs)


class Server:
    """gunicorn with production settings on 127.0.0.1, for the length of a `with` block."""

    def __init__(self, env, log_level="warning"):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bench_wsgi:application",
                "--pythonpath",
                str(BASE_DIR / "scripts"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(WORKERS),
                "--log-level",
                log_level,
                "--no-control-socket",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,  # the site's own log lines (a flood writes thousands)
        )

    def __enter__(self):
        if not wait_until_healthy(self.base):
            raise RuntimeError("gunicorn did not start")
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)


def to_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def wrk(url, seconds, headers=()):
    cmd = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", url]
    for header in headers:
        cmd[1:1] = ["-H", header]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 30)
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", text).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"rps": rps, "p50": p50, "p99": p99, "errors": int(non2xx.group(1)) if non2xx else 0}


def measure(label, bare_url, url, args, headers=()):
    """`url` loaded right after the bare view, `args.rounds` times: the figures of the round
    with the median ratio (this machine's speed drifts from second to second)."""
    warm_up(url, headers)
    rounds = []
    for _ in range(args.rounds):
        bare = wrk(bare_url, args.seconds)
        figures = wrk(url, args.seconds, headers)
        rounds.append({**figures, "ratio": figures["rps"] / max(bare["rps"], 0.001)})
    ratios = " ".join(f"{figures['ratio']:.3f}" for figures in rounds)
    print(f"bench: {label}: ratios {ratios}", file=sys.stderr)
    median = sorted(rounds, key=lambda figures: figures["ratio"])[len(rounds) // 2]
    return {**median, "errors": sum(figures["errors"] for figures in rounds)}


def warm_up(url, headers):
    """One request before measuring: what a change leaves cached (a list's count, the genres'
    counts) is then cached, as "uncached" means (every request renders the page)."""
    request = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in headers))
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
    except urllib.error.HTTPError as answer:  # a conditional GET's 304
        if answer.code != 304:
            raise


def get_etag(url, headers):
    request = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in headers))
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        return response.headers.get("ETag")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=2, help="wrk duration per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per page and mode (median)")
    parser.add_argument("--label", default=None, help="database name for the table's title")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is not installed (Debian package wrk; make bench installs it)")

    with tempfile.TemporaryDirectory() as tmp:
        database = os.environ.get("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
        env = production_env(tmp, DATABASE_URL=database)
        label = args.label or env["DATABASE_URL"].split(":", 1)[0]
        started = time.monotonic()
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        manage(
            env,
            "loaddemo",
            "--verbosity",
            "0",
            "--bands",
            str(BANDS),
            "--listings",
            str(LISTINGS),
            "--big-band",
            str(BIG_BAND),
        )
        print(
            f"bench [{label}]: data set built in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )

        uncached_env = {**env, "CACHE_URL": "dummycache://"}
        measured = json.loads(
            manage(
                uncached_env, "shell", "--no-imports", "-c", MEASURE, capture_output=True, text=True
            ).stdout
        )
        pages, session = measured["pages"], measured["session"]
        cookie = (f"Cookie: sessionid={session}",)

        # "Uncached": the page cache is off, so every request renders the page; the shared
        # cache still holds the paginators' counts and band pages' band rows, as it does
        # between two changes.
        results = {name: {} for name in pages}
        uncached_env = {
            **env,
            "MERCHEX_CACHE_DIR": f"{tmp}/counts",
            "MERCHEX_PAGE_CACHE": "false",
        }
        bare_url = "/bench/bare/"
        # This machine's speed drifts from second to second, so every page is measured right
        # after the bare view, its ratio is to that neighbouring figure, and the table shows
        # the median of three such pairs.
        with Server(uncached_env) as server:
            for name, page in pages.items():
                headers = cookie if name.startswith("admin") else ()
                results[name]["uncached"] = measure(
                    f"{name}, uncached",
                    server.base + bare_url,
                    server.base + page["url"],
                    args,
                    headers,
                )
        cached_env = {**env, "MERCHEX_CACHE_DIR": f"{tmp}/cache"}
        with Server(cached_env) as server:
            for name, page in pages.items():
                if name.startswith("admin"):
                    continue
                url = server.base + page["url"]
                etag = get_etag(url, ())
                bare = server.base + bare_url
                results[name]["cached"] = measure(f"{name}, cached", bare, url, args)
                if name != "bare view":
                    conditional = (f"If-None-Match: {etag}",)
                    results[name]["304"] = measure(f"{name}, 304", bare, url, args, conditional)
        print_table(label, pages, results, args.rounds, args.seconds)
        # Pictures are served by nginx in front of gunicorn, as in production (README).
        with (
            Server(cached_env) as server,
            Nginx(BASE_DIR, tmp, f"{tmp}/media", server.port) as proxy,
        ):
            if not wait_until_healthy(proxy.base):
                raise RuntimeError("nginx did not start")
            print_picture_bytes(label, proxy.base, pages)
        with Server(cached_env) as server:
            print_login_flood(f"{label}, gunicorn alone", server.base, tmp, args.seconds * 3)
        with (
            Server(cached_env) as server,
            Nginx(BASE_DIR, tmp, f"{tmp}/media", server.port) as proxy,
        ):
            print_login_flood(f"{label}, behind nginx", proxy.base, tmp, args.seconds * 3)
        print_import(label, env)  # last: the 10,000 new items would be the newest on every list


def picture_bytes(base, path, scale):
    """Bytes of the pictures a phone 375 px wide (`scale` device pixels per CSS pixel) loads
    when it opens `path`, before any scrolling (what the browser fetches at once)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(
            viewport={"width": 375, "height": 812}, device_scale_factor=scale, is_mobile=True
        )
        sizes = []
        page.on(
            "response",
            lambda r: sizes.append(len(r.body())) if r.request.resource_type == "image" else None,
        )
        page.goto(base + path, wait_until="networkidle")
        browser.close()
    return len(sizes), sum(sizes)


def print_picture_bytes(label, base, pages):
    """The bytes of pictures on the first screen of a phone: the demo pictures, as drawn."""
    chosen = [
        name
        for name in pages
        if name in ("home", "listing list, first page", "listing detail")
        or (name.startswith("band page") and "2,000" not in name)
    ]
    print(f"\n{label}: pictures a phone (375 px wide) loads on opening a page, before scrolling\n")
    print("| page | 2× screen: pictures, KB | 3× screen: pictures, KB |")
    print("| --- | ---: | ---: |")
    for name in chosen:
        cells = []
        for scale in (2, 3):
            count, size = picture_bytes(base, pages[name]["url"], scale)
            cells.append(f"{count}, {size / 1000:,.1f}")
        print(f"| {name} | {cells[0]} | {cells[1]} |")


# Wrong passwords as a password-guessing client sends them: with a valid CSRF cookie and token
# (a 32-character secret is accepted unmasked), so every request reaches the authentication.
FLOOD = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "csrftoken={token}"
wrk.body = "csrfmiddlewaretoken={token}&username=owner&password=wrong-guess&next=/admin/"
"""


def print_login_flood(label, base, tmp, seconds):
    """Home page latency alone, then while 10 clients post wrong passwords to the admin's
    sign-in (each check hashes a password for about 200 ms of CPU, unless locked out first)."""
    script = Path(tmp) / "flood.lua"
    script.write_text(FLOOD.format(token=secrets.token_hex(16)))
    idle = wrk(base + "/", seconds)
    flood = subprocess.Popen(
        ["wrk", "-t2", "-c10", f"-d{seconds + 2}s", "-s", str(script), base + "/admin/login/"],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(1)
    during = wrk(base + "/", seconds)
    out = flood.communicate(timeout=seconds + 60)[0]
    attempts = re.search(r"(\d+) requests in", out).group(1)
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(f"\n{label}: home page during a 10-client sign-in flood (wrong passwords)\n")
    print("| | home p50 ms | home p99 ms | home req/s |")
    print("| --- | ---: | ---: | ---: |")
    for name, figures in [("idle", idle), ("during the flood", during)]:
        print(f"| {name} | {figures['p50']:.1f} | {figures['p99']:.1f} | {figures['rps']:,.0f} |")
    print(
        f"\np50 during / idle: {during['p50'] / idle['p50']:.2f}; sign-in attempts: {attempts}, "
        f"refused with 429 (nginx's limit or the lockout): {refused.group(1) if refused else 0}"
    )


def print_table(label, pages, results, rounds, seconds):
    print(f"\n### {label}: {BANDS:,} bands, {LISTINGS:,} listings, gunicorn {WORKERS} workers\n")
    print(
        "| page | queries | bytes | uncached req/s (p50 / p99 ms) | ratio "
        "| cached req/s (p50 / p99 ms) | ratio | 304 req/s | ratio |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, page in pages.items():
        size = f"{page['bytes']:,}"
        cells = [name, str(page["queries"]), size]
        for mode in ("uncached", "cached", "304"):
            figures = results[name].get(mode)
            if figures is None:
                cells += ["–", "–"]
                continue
            if mode == "304":
                cells.append(f"{figures['rps']:,.0f}")
            else:
                cells.append(f"{figures['rps']:,.0f} ({figures['p50']:.1f} / {figures['p99']:.1f})")
            error = " (errors!)" if figures["errors"] else ""
            cells.append(f"{figures['ratio']:.3f}{error}")
        print("| " + " | ".join(cells) + " |")
    print(
        "\nEach ratio divides a page's requests/s by the bare view's, measured just before it by "
        f"the same workers; each row shows the median of {rounds} such pairs of {seconds} s runs. "
        "Queries and bytes: the page rendered with nothing cached, for staff signed in (session "
        "and user included); nginx compresses pages in the documented deployment."
    )


if __name__ == "__main__":
    main()
