"""merchex soak: hostile requests, overlapping staff writes, then steady writes under reads,
against the production server (gunicorn, 2 workers, production settings), for a few minutes.

Usage: .venv/bin/python scripts/soak.py [--minutes N] [--label NAME]
       (or: make soak, which runs it on SQLite, then on a throwaway PostgreSQL)

Uses DATABASE_URL if set, else a throwaway SQLite file; builds 1,000 bands / 20,000 listings
(one band of 2,000) with the demo command. Then, against one server:

1. Hostile requests: a fixed sample of the fuzz corpus of listings/tests/test_hostile_input.py
   (every public path, hostile parameters, bodies, methods, hosts). Goal: no 5xx.
2. Overlapping staff writes, 20 s: two staff saving a band's page with its 20 inline prices
   changed, two running bulk actions on the same listings, two processes updating them through
   the ORM. Goal: every admin save answers 302, or shows the newer change it would have undone
   (its form was opened before it); no 5xx.
3. Reads (wrk: 70 % listing and band pages, 30 % lists) for a minute without writes, then for
   N minutes with 5 admin saves a second (a listing's page, a new price) and 20 ORM writes a
   second. Prints requests, statuses, the cache hit rate (the X-Cache header) and read
   throughput per minute; afterwards every admin-saved price is looked for on its fan page.
   Goals: no 5xx; no lost save; throughput under writes at least half the figure without;
   the last minute no more than 10 % below the first.
4. The race: 50 fans at once for an option with 10 left, each through the cart, checkout and a
   card payment at localstripe (scripts/stripe_server.py, 127.0.0.1). Goals: exactly 10 paid
   orders, stock 0, every other fan told it sold out, no 5xx. Prints the fans served a second
   as a ratio to the bare view.

It prints figures and checks the goals; the exit status is 1 if one was missed.
"""

import argparse
import http.client
import json
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import requests
from bench import BASE_DIR, Server, manage, production_env, wrk

sys.path.insert(0, str(BASE_DIR))
from listings.tests.admin_forms import change_form_data  # noqa: E402
from listings.tests.corpus import HOSTILE_TEXT, PARAMETERS, PUBLIC_PATHS  # noqa: E402
from listings.tests.servers import free_port  # noqa: E402
from orders.tests.stripe_server import KEYS, StripeServer  # noqa: E402

BANDS, LISTINGS, BIG_BAND = 1000, 20_000, 2000
ADMIN_SAVES_PER_SECOND, ORM_WRITES_PER_SECOND = 5, 20
READ_CONNECTIONS = 16

PREPARE = r"""
import json, random
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.test import Client
from listings.models import Band, Listing
from listings.roles import sync_shop_staff
from listings.tests.admin_forms import sign_in_verified

random.seed(1)
user, _ = get_user_model().objects.get_or_create(username="soak", defaults={"is_staff": True})
user.groups.add(sync_shop_staff())
sessions = []
for _ in range(4):
    client = Client()
    sign_in_verified(client, user)  # with a second factor, as production asks of editors
    sessions.append(client.cookies["sessionid"].value)
ids = list(Listing.objects.values_list("pk", flat=True))
random.shuffle(ids)
# Small bands for the overlapping writes: their change page holds all their listings.
bands = list(
    Band.objects.annotate(n=Count("listings")).filter(n__gte=5, n__lte=20)
    .values_list("pk", flat=True)[:2]
)
overlap = list(Listing.objects.filter(band__in=bands).values_list("pk", flat=True))
read_bands = [b.get_absolute_url() for b in Band.objects.order_by("?")[:50]]
read_listings = [l.get_absolute_url() for l in Listing.objects.filter(pk__in=ids[:200])]
print(json.dumps({
    "sessions": sessions,
    "admin_saved": ids[200:500],  # what staff edit in the admin, steady phase
    "orm_written": ids[500:],  # what the ORM writers change, steady phase
    "overlap_bands": bands,
    "overlap_listings": overlap,
    "details": read_bands + read_listings,
    "lists": ["/", "/listings/", "/listings/?page=2", "/listings/?type=Clothing", "/bands/",
              "/bands/?page=2"],
}))
"""

ORM_WRITER = r"""
import json, random, sys, time
from django.db import connection
from django.db import transaction
from django.db.models import F
from listings.models import Listing, pages_changed

ids, rate, seconds, per_write = json.loads(sys.stdin.read())
deadline = time.monotonic() + seconds
counts = {"ok": 0, "failed": 0}
next_at = time.monotonic()
while time.monotonic() < deadline:
    chosen = random.sample(ids, per_write)

    try:
        with transaction.atomic():
            for pk in sorted(chosen):  # row by row, in primary-key order as the admin does
                sold = random.random() < 0.1
                Listing.objects.filter(pk=pk).update(price=F("price") + 1, sold=sold)
            pages_changed(Listing, chosen)  # as every update() of ours does
        counts["ok"] += 1
    except Exception as exc:
        counts["failed"] += 1
        print(repr(exc), file=sys.stderr)
    next_at += 1 / rate
    time.sleep(max(0, next_at - time.monotonic()))
connection.close()
print(json.dumps(counts))
"""

READS = """
local details = {details}
local lists = {lists}
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  hits, misses, ok, redirects, client_errors, server_errors = 0, 0, 0, 0, 0, 0
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000))
end

function request()
  local paths = math.random() < 0.7 and details or lists
  return wrk.format("GET", paths[math.random(#paths)])
end

function response(status, headers, body)
  if headers["X-Cache"] == "hit" then hits = hits + 1 elseif headers["X-Cache"] == "miss" then
    misses = misses + 1 end
  if status >= 500 then server_errors = server_errors + 1
  elseif status >= 400 then client_errors = client_errors + 1
  elseif status >= 300 then redirects = redirects + 1
  else ok = ok + 1 end
end

function done(summary, latency, requests)
  local names = {{"hits", "misses", "ok", "redirects", "client_errors", "server_errors"}}
  local totals = {{}}
  for _, name in ipairs(names) do
    totals[name] = 0
    for _, thread in ipairs(threads) do totals[name] = totals[name] + thread:get(name) end
  end
  io.write(string.format(
    "SOAK {{\\"requests\\": %d, \\"seconds\\": %.3f, \\"p50_ms\\": %.2f, \\"p99_ms\\": %.2f, "
    .. "\\"hits\\": %d, \\"misses\\": %d, \\"2xx\\": %d, \\"3xx\\": %d, \\"4xx\\": %d, "
    .. "\\"5xx\\": %d, \\"socket_errors\\": %d}}\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, totals.hits, totals.misses, totals.ok, totals.redirects,
    totals.client_errors, totals.server_errors,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def lua_list(paths):
    return "{" + ", ".join(json.dumps(path) for path in paths) + "}"


def read_load(base, script, seconds):
    result = subprocess.run(
        ["wrk", "-t", "2", "-c", str(READ_CONNECTIONS), "-d", f"{seconds}s", "-s", script, base],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("SOAK "))
    return json.loads(line.removeprefix("SOAK "))


REFUSED = "200 refused: a newer change shown"


class Staff:
    """A member of shop staff in the admin, signed in (a session made by PREPARE)."""

    TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

    def __init__(self, base, session):
        self.base = base
        self.http = requests.Session()
        self.http.cookies.set("sessionid", session)

    def change(self, path, edit):
        """GET a change page, edit its form data, POST it back: the POST's status."""
        page = self.http.get(self.base + path, timeout=60)
        if page.status_code != 200:
            return page.status_code
        data = change_form_data(page)
        edit(data)
        response = self.http.post(self.base + path, data, allow_redirects=False, timeout=60)
        if response.status_code == 200 and "Someone else saved this" in response.text:
            return REFUSED  # opened before another write: shown, not undone
        return response.status_code

    def action(self, name, ids):
        path = "/admin/listings/listing/"
        page = self.http.get(self.base + path, timeout=60)
        token = self.TOKEN.search(page.text).group(1)
        data = {"csrfmiddlewaretoken": token, "action": name, "_selected_action": ids}
        response = self.http.post(self.base + path, data, allow_redirects=False, timeout=60)
        return response.status_code


def orm_writers(env, ids, rate, seconds, per_write=1, processes=2):
    """Start `processes` writer processes, together `rate` writes a second."""
    started = []
    for _ in range(processes):
        process = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", ORM_WRITER],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        process.stdin.write(json.dumps([ids, rate / processes, seconds, per_write]))
        process.stdin.close()
        started.append(process)
    return started


def finish(processes):
    totals = Counter()
    for process in processes:
        out = process.stdout.read()
        process.wait()
        totals.update(json.loads(out.strip().splitlines()[-1]))
    return totals


def hostile_requests(base, port, ids, count):
    """A fixed sample of the fuzz corpus, sent raw (bytes the test client would refuse)."""
    rng = random.Random(1)
    statuses = Counter()
    for _ in range(count):
        path = rng.choice(PUBLIC_PATHS).format(**ids)
        query = "&".join(
            f"{rng.choice(PARAMETERS)}="
            + quote(rng.choice(HOSTILE_TEXT).encode("utf-8", "surrogatepass"), safe="")
            for _ in range(rng.randint(0, 3))
        )
        method = rng.choice(["GET", "GET", "GET", "HEAD", "POST", "PUT", "OPTIONS", "TRACE"])
        body = rng.choice([b"", b"a=%00&b=\xff", b"--x\r\nContent-Disposition: form-data\r\n"])
        host = rng.choice([f"127.0.0.1:{port}", "127.0.0.1:1", "evil.example", "[::1"])
        headers = {
            "Host": host,
            "Content-Type": rng.choice(
                [
                    "application/x-www-form-urlencoded",
                    "multipart/form-data; boundary=",
                    "text/plain",
                ]
            ),
        }
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request(method, f"{path}?{query}" if query else path, body, headers)
            statuses[connection.getresponse().status] += 1
        finally:
            connection.close()
    return statuses


def overlapping_writes(base, env, data, seconds):
    """Band saves with 20 inline prices, bulk actions and ORM updates on the same listings."""
    statuses = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    overlap = data["overlap_listings"]

    def record(what):
        with lock:
            statuses[what] += 1

    def band_saves(staff, band):
        def edit(form):
            for row in range(int(form["listings-INITIAL_FORMS"])):  # not the empty extra rows
                form[f"listings-{row}-price"] = str(random.randint(1, 99))

        while time.monotonic() < deadline:
            record(f"band save {staff.change(f'/admin/listings/band/{band}/change/', edit)}")

    def bulk_actions(staff):
        while time.monotonic() < deadline:
            name = random.choice(["mark_sold", "mark_available"])
            chosen = random.sample(overlap, min(10, len(overlap)))
            record(f"bulk action {staff.action(name, chosen)}")

    writers = orm_writers(env, overlap, rate=40, seconds=seconds, per_write=5)
    sessions = data["sessions"]
    threads = [
        threading.Thread(target=band_saves, args=(Staff(base, sessions[n]), band))
        for n, band in enumerate(data["overlap_bands"])
    ]
    threads += [
        threading.Thread(target=bulk_actions, args=(Staff(base, sessions[2 + n]),))
        for n in range(2)
    ]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    orm = finish(writers)
    statuses.update({f"orm update {outcome}": n for outcome, n in orm.items()})
    return statuses


def steady_admin_saves(base, session, ids, seconds, saved):
    """ADMIN_SAVES_PER_SECOND listing saves, each a new price, remembered in `saved`."""
    staff = Staff(base, session)
    statuses = Counter()
    deadline = time.monotonic() + seconds
    next_at = time.monotonic()
    cents = 10_000
    while time.monotonic() < deadline:
        listing = random.choice(ids)
        cents += 1
        price = Decimal(cents) / 100  # a price no other save used

        def edit(form, price=price):
            form["price"] = str(price)

        status = staff.change(f"/admin/listings/listing/{listing}/change/", edit)
        statuses[status] += 1
        if status == 302:
            saved[listing] = price
        next_at += 1 / ADMIN_SAVES_PER_SECOND
        time.sleep(max(0, next_at - time.monotonic()))
    return statuses


def lost_saves(base, saved):
    """Admin-saved prices not shown on their listing's fan page."""
    lost = []
    for listing, price in saved.items():
        page = requests.get(f"{base}/listings/{listing}/", timeout=60).text
        if f"€{price:,.2f}" not in page:
            lost.append((listing, str(price)))
    return lost


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=3, help="minutes of steady writes")
    parser.add_argument("--label", default="SQLite")
    args = parser.parse_args()
    missed = []
    with tempfile.TemporaryDirectory(prefix="merchex-soak-") as tmp:
        stripe_port = free_port()
        env = production_env(
            tmp,
            MERCHEX_CACHE_DIR=f"{tmp}/cache",
            MERCHEX_ORIGIN="http://127.0.0.1",
            MERCHEX_CURRENCY="EUR",
            STRIPE_API_BASE=f"http://127.0.0.1:{stripe_port}",
            STRIPE_JS_URL=f"http://127.0.0.1:{stripe_port}/js.stripe.com/v3/",
            MERCHEX_TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend",
            **KEYS,
        )
        env.setdefault("DATABASE_URL", f"sqlite:///{tmp}/soak.sqlite3")
        started = time.monotonic()
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        manage(
            env,
            "loaddemo",
            "--verbosity",
            "0",
            "--no-pictures",
            "--bands",
            str(BANDS),
            "--listings",
            str(LISTINGS),
            "--big-band",
            str(BIG_BAND),
        )
        data = json.loads(
            manage(env, "shell", "--no-imports", "-c", PREPARE, capture_output=True, text=True)
            .stdout.strip()
            .splitlines()[-1]
        )
        print(f"soak [{args.label}]: data set built in {time.monotonic() - started:.0f} s")
        script = Path(tmp) / "reads.lua"
        script.write_text(
            READS.format(details=lua_list(data["details"]), lists=lua_list(data["lists"]))
        )
        # gunicorn's own log at "error": it warns of every hostile request line it refuses
        with Server(env, log_level="error") as server:
            ids = {"band": data["overlap_bands"][0], "listing": data["overlap_listings"][0]}
            fuzz = hostile_requests(server.base, server.port, ids, 2000)
            statuses = dict(sorted(fuzz.items()))
            print(f"\n1. hostile requests: {sum(fuzz.values())}, statuses {statuses}")
            if any(status >= 500 for status in fuzz):
                missed.append("a hostile request answered 5xx")

            overlap = overlapping_writes(server.base, env, data, 20)
            print(f"2. overlapping staff writes, 20 s: {dict(sorted(overlap.items()))}")
            failed = [
                what
                for what, n in overlap.items()
                if n and not what.endswith((" 302", " ok", REFUSED))
            ]
            if failed:
                missed.append("an overlapping write failed")

            mix = "70 % listing and band pages, 30 % lists"
            print(f"\n3. reads, {READ_CONNECTIONS} connections: {mix}")
            read_load(server.base, str(script), 10)  # warm the cache
            quiet = read_load(server.base, str(script), 60)
            rows = [("no writes", quiet, None)]
            saved, admin_statuses = {}, Counter()
            seconds = 60 * args.minutes
            writers = orm_writers(env, data["orm_written"], ORM_WRITES_PER_SECOND, seconds + 5)
            saver = threading.Thread(
                target=lambda: admin_statuses.update(
                    steady_admin_saves(
                        server.base, data["sessions"][0], data["admin_saved"], seconds + 5, saved
                    )
                )
            )
            saver.start()
            for minute in range(args.minutes):
                rows.append(
                    (
                        f"minute {minute + 1} with writes",
                        read_load(server.base, str(script), 60),
                        quiet,
                    )
                )
            saver.join()
            orm = finish(writers)
            print_reads(rows)
            lost = lost_saves(server.base, saved)
            print(
                f"\nadmin saves: {sum(admin_statuses.values())} ({dict(admin_statuses)}), "
                f"ORM writes: {dict(orm)}; admin-saved prices checked on the fan pages: "
                f"{len(saved)}, lost: {len(lost)} {lost[:5]}"
            )

            with StripeServer(stripe_port, f"{server.base}/stripe/webhook/") as stripe:
                item = shell_json(env, RACE_ITEM)
                outcomes, seconds = race(server.base, stripe, item)
                bare = wrk(f"{server.base}/bench/bare/", 5)["rps"]
            result = shell_json(env, RACE_RESULT % item["variant"])
            rate = 50 / seconds
            print(
                f"\n4. 50 fans at once for the last 10 units: {dict(sorted(outcomes.items()))}; "
                f"{result}; {seconds:.1f} s, {rate:.1f} fans served a second, "
                f"{rate / bare:.4f} of the bare view ({bare:,.0f} req/s)"
            )
            told = dict(outcomes)
            if (
                result["paid"] != 10
                or result["stock"] != 0
                or told.pop("pay 200 succeeded", 0) != 10
                or not all(what.endswith("sold out") for what in told)
            ):
                missed.append("the race: not exactly 10 paid, the others told sold out")
        writing = [row[1] for row in rows[1:]]
        if any(row["5xx"] or row["socket_errors"] for row in [quiet, *writing]):
            missed.append("reads answered 5xx or failed")
        if lost or set(admin_statuses) - {302, REFUSED} or orm.get("failed"):
            missed.append("a save was lost or failed")
        rates = [row["requests"] / row["seconds"] for row in writing]
        quiet_rate = quiet["requests"] / quiet["seconds"]
        if min(rates) < 0.5 * quiet_rate:
            missed.append("reads under writes below half the quiet figure")
        if rates[-1] < 0.9 * rates[0]:  # a fall is what matters: a rise is no fault
            missed.append("the last minute more than 10 % below the first")
    print(
        f"\nsoak [{args.label}]: "
        + ("every goal met" if not missed else "MISSED: " + "; ".join(missed))
    )
    return 1 if missed else 0


RACE_ITEM = r"""
import json
from django.db import transaction
from listings.models import Listing, Variant
with transaction.atomic():  # one counted option, given with the listing
    tee = Listing.objects.create(title="Soak race tee", type="Clothing", price=20)
    option = Variant.objects.create(listing=tee, name="M", stock=10)
print(json.dumps({"listing": tee.pk, "variant": option.pk}))
"""
RACE_RESULT = r"""
import json
from listings.models import Listing, Variant
from orders.models import Order
option = Variant.objects.get(pk=%d)
print(json.dumps({"stock": option.stock, "sold": option.listing.sold,
                  "paid": Order.objects.filter(status="paid", lines__variant=option).count()}))
"""
ADDRESS = {"email": "fan@example.com", "name": "Fan", "line1": "1 rue de la Paix",
           "city": "Paris", "postal_code": "75002", "country": "FR"}  # fmt: skip


def shell_json(env, code):
    out = manage(env, "shell", "--no-imports", "-c", code, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def race(base, stripe, item, buyers=50):
    """`buyers` fans at once for the last 10 units, each through the cart, checkout and a card
    payment at localstripe: what each was told, and the seconds it took them all."""
    outcomes, lock, start = Counter(), threading.Lock(), threading.Barrier(buyers)
    token = re.compile(r'name="(csrfmiddlewaretoken|checkout)" value="([^"]+)"')

    def told(what):
        with lock:
            outcomes[what] += 1

    def fan():
        http = requests.Session()
        start.wait()
        data = {"variant": item["variant"], "quantity": 1}
        added = http.post(f"{base}/cart/add/{item['listing']}/", data, allow_redirects=False)
        if added.status_code != 302:
            return told(f"add {added.status_code}" + " sold out" * ("sold out" in added.text))
        form = dict(token.findall(http.get(f"{base}/checkout/").text))
        placed = http.post(f"{base}/checkout/", {**ADDRESS, **form}, allow_redirects=False)
        if placed.status_code != 302:
            return told(
                f"checkout {placed.status_code}" + " sold out" * ("sold out" in placed.text)
            )
        pay = placed.headers["Location"]
        form = dict(token.findall(http.get(base + pay).text))
        form["token"] = stripe.card_token()  # as Stripe.js gives the page
        paid = http.post(f"{base}{pay}card/", form, timeout=60)
        told(f"pay {paid.status_code} {paid.json().get('status')}")

    def guarded():
        try:
            fan()
        except Exception as exc:  # a soak reports, never stops
            told(f"error {exc!r}"[:120])

    threads = [threading.Thread(target=guarded) for _ in range(buyers)]
    began = time.monotonic()
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    return outcomes, time.monotonic() - began


def print_reads(rows):
    columns = "req/s | vs no writes | p50 ms | p99 ms | cache hits | 2xx | 3xx | 4xx | 5xx"
    print(f"\n| reads | requests | {columns} |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, row, quiet in rows:
        rate = row["requests"] / row["seconds"]
        ratio = f"{rate / (quiet['requests'] / quiet['seconds']):.2f}" if quiet else "1"
        hit_rate = row["hits"] / max(1, row["hits"] + row["misses"])
        print(
            f"| {label} | {row['requests']:,} | {rate:,.0f} | {ratio} | {row['p50_ms']:.1f} | "
            f"{row['p99_ms']:.1f} | {hit_rate:.1%} | {row['2xx']:,} | {row['3xx']:,} | "
            f"{row['4xx']:,} | {row['5xx'] + row['socket_errors']:,} |"
        )


if __name__ == "__main__":
    sys.exit(main())
